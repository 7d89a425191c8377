/**
 * mbox files in the mboxrd variant: RFC 4155 (the `application/mbox` format) plus the mboxrd
 * quoting — on write every line matching `^>*From ` gets one more `>`, on read one `>` is
 * taken off such lines, so any message survives a round trip byte for byte.
 *
 * The reader streams (a 1 GB mbox is never held in memory) and accepts LF or CRLF files; a
 * message starts at a `From ` line at the start of the file or after a blank line
 * (RFC 4155 §2), and that blank line belongs to the separator, not to the message.
 * Messages come out with CRLF line endings (the wire form Sluice stores). The writer writes
 * LF, the form of mbox on disk.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

export interface MboxEnvelope {
  /** The `From ` line's sender (envelope return path), null when absent or `MAILER-DAEMON`. */
  readonly sender: string | null;
  /** The `From ` line's date, null when absent or unreadable. */
  readonly date: Date | null;
}

export interface MboxMessage extends MboxEnvelope {
  /** The message, CRLF line endings, quoting undone. */
  readonly bytes: Buffer;
}

export class MboxFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MboxFormatError';
  }
}

const LF = 0x0a;
const CR = 0x0d;
const GT = 0x3e;
const CRLF = Buffer.from('\r\n');
const FROM_ = Buffer.from('From ');

function startsWithFrom(line: Buffer, at = 0): boolean {
  return line.length - at >= 5 && line.compare(FROM_, 0, 5, at, at + 5) === 0;
}

/** Whether `line` matches `^>*From ` with at least one `>` (an mboxrd-quoted line). */
function isQuotedFrom(line: Buffer): boolean {
  if (line[0] !== GT) return false;
  let i = 1;
  while (i < line.length && line[i] === GT) i++;
  return startsWithFrom(line, i);
}

/** A synchronous mboxrd splitter: push chunks in, get whole messages out. */
export class MboxParser {
  private rest: Buffer[] = [];
  private current: { envelope: MboxEnvelope; parts: Buffer[]; lastBlank: boolean } | null = null;
  private prevBlank = true;

  push(chunk: Buffer): MboxMessage[] {
    const out: MboxMessage[] = [];
    let from = 0;
    for (let nl = chunk.indexOf(LF); nl >= 0; nl = chunk.indexOf(LF, from)) {
      let line = chunk.subarray(from, nl);
      if (this.rest.length > 0) {
        line = Buffer.concat([...this.rest, line]);
        this.rest = [];
      }
      this.line(line, out);
      from = nl + 1;
    }
    if (from < chunk.length) this.rest.push(chunk.subarray(from));
    return out;
  }

  /** The end of the input: the last message, if any. */
  end(): MboxMessage[] {
    const out: MboxMessage[] = [];
    if (this.rest.length > 0) {
      this.line(Buffer.concat(this.rest), out);
      this.rest = [];
    }
    this.finish(out);
    return out;
  }

  private line(raw: Buffer, out: MboxMessage[]): void {
    const line = raw.length > 0 && raw[raw.length - 1] === CR ? raw.subarray(0, raw.length - 1) : raw;
    // RFC 4155 §2: a message begins with a From_ line, at the start or after a blank line.
    if (this.prevBlank && startsWithFrom(line)) {
      this.finish(out);
      this.current = { envelope: parseFromLine(line.toString('latin1')), parts: [], lastBlank: false };
      this.prevBlank = false;
      return;
    }
    this.prevBlank = line.length === 0;
    if (this.current === null) {
      if (line.length === 0) return;
      throw new MboxFormatError('not an mbox file: it does not start with a "From " line');
    }
    const body = isQuotedFrom(line) ? line.subarray(1) : line;
    if (body.length > 0) this.current.parts.push(body);
    this.current.parts.push(CRLF);
    this.current.lastBlank = line.length === 0;
  }

  private finish(out: MboxMessage[]): void {
    const message = this.current;
    if (message === null) return;
    // The blank line before the next From_ line (or the end) is the separator.
    if (message.lastBlank) message.parts.pop();
    out.push({ ...message.envelope, bytes: Buffer.concat(message.parts) });
    this.current = null;
  }
}

/** Streams the messages of an mbox file, one at a time. */
export async function* readMbox(path: string): AsyncGenerator<MboxMessage> {
  const parser = new MboxParser();
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of stream) yield* parser.push(chunk as Buffer);
    yield* parser.end();
  } finally {
    stream.destroy();
  }
}

/**
 * How many messages an mbox file holds, by a fast scan for `From ` lines after a blank line
 * (the reader's rule); used to size a progress bar before the real read.
 */
export async function countMbox(path: string): Promise<number> {
  let count = 0;
  let tail = Buffer.alloc(0);
  let first = true;
  const needle = Buffer.from('\nFrom ');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    const data = tail.length > 0 ? Buffer.concat([tail, chunk as Buffer]) : (chunk as Buffer);
    if (first && startsWithFrom(data)) count++;
    first = false;
    for (let i = data.indexOf(needle); i >= 0; i = data.indexOf(needle, i + 1)) {
      // Hits wholly inside the carried-over tail were counted with the previous chunk.
      if (i + needle.length <= tail.length) continue;
      if (data[i - 1] === LF || (data[i - 1] === CR && data[i - 2] === LF)) count++;
    }
    tail = Buffer.from(data.subarray(Math.max(0, data.length - 8)));
  }
  return count;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** `From sender date` → sender and date (RFC 4155 §2: the date is in asctime form, UTC). */
export function parseFromLine(line: string): MboxEnvelope {
  const rest = line.slice(5).trim();
  const space = rest.search(/\s/);
  const sender = space < 0 ? rest : rest.slice(0, space);
  return {
    sender: sender === '' || sender === 'MAILER-DAEMON' ? null : sender,
    date: space < 0 ? null : parseAsctime(rest.slice(space + 1)),
  };
}

/** `Sat Jan  3 01:05:34 1996`, optionally with a zone before or after the year. */
export function parseAsctime(text: string): Date | null {
  const m = /(?:[A-Z][a-z]{2},?\s+)?([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:([+-]\d{4}|[A-Z]{1,5})\s+)?(\d{4})(?:\s+([+-]\d{4}))?/.exec(text);
  if (!m) return null;
  const month = MONTHS.indexOf(m[1]);
  if (month < 0) return null;
  const zone = m[6] ?? m[8];
  let offset = 0;
  if (zone !== undefined && /^[+-]\d{4}$/.test(zone)) {
    const sign = zone[0] === '-' ? -1 : 1;
    offset = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  }
  const ms = Date.UTC(Number(m[7]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5] ?? 0)) - offset * 60_000;
  return Number.isFinite(ms) ? new Date(ms) : null;
}

export function formatAsctime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, ' ')} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${date.getUTCFullYear()}`
  );
}

/**
 * One mbox entry: the From_ line, the message with LF endings and mboxrd quoting, a final
 * newline if it had none, and the blank separator line.
 */
export function formatMboxEntry(bytes: Buffer, envelope: { sender?: string | null; date?: Date | number | null } = {}): Buffer {
  const sender = envelope.sender && !/\s/.test(envelope.sender) ? envelope.sender : 'MAILER-DAEMON';
  const date = envelope.date === undefined || envelope.date === null ? new Date() : new Date(envelope.date);
  const pieces: Buffer[] = [Buffer.from(`From ${sender} ${formatAsctime(date)}\n`, 'latin1')];
  const gt = Buffer.from('>');
  const nl = Buffer.from('\n');
  let from = 0;
  while (from < bytes.length) {
    const found = bytes.indexOf(LF, from);
    const end = found < 0 ? bytes.length : found;
    let line = bytes.subarray(from, end);
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (startsWithFrom(line) || isQuotedFrom(line)) pieces.push(gt);
    pieces.push(line, nl);
    from = end + 1;
  }
  pieces.push(nl);
  return Buffer.concat(pieces);
}

export interface MboxWriter {
  /** Appends one message; resolves to the bytes written. */
  write(bytes: Buffer, envelope?: { sender?: string | null; date?: Date | number | null }): Promise<number>;
  /** Flushes to disk (fsync) and closes. */
  close(): Promise<void>;
}

/** A writer of a new mbox file at `path` (an existing file is replaced). */
export async function openMboxWriter(path: string): Promise<MboxWriter> {
  const file = await open(path, 'w');
  return {
    async write(bytes, envelope) {
      const entry = formatMboxEntry(bytes, envelope);
      await file.write(entry);
      return entry.length;
    },
    async close() {
      try {
        await file.sync();
      } finally {
        await file.close();
      }
    },
  };
}
