/**
 * Frames the client's byte stream into whole IMAP commands (RFC 9051 §2.2.1, §4.3): a command
 * is lines joined by literals; a line ending in `{n}` (synchronizing: the server first sends a
 * continuation, RFC 9051 §7.5), `{n+}` (non-synchronizing, RFC 7888 LITERAL+/LITERAL-) or
 * `~{n}` (literal8, RFC 3516 §4.2) is followed by exactly n bytes, then more of the command.
 *
 * Output `data` is the command as sent, without its final line end, literals inline
 * (`A1 LOGIN {5}\r\nalice x`), so `parse-command.ts` sees the literal bytes. Lines without a
 * tag (AUTHENTICATE continuation lines, IDLE's `DONE`) come out the same way.
 *
 * Errors never stop the reader:
 * - `LINE`: a line longer than `maxLineLength` is reported as soon as it is seen; its bytes are
 *   dropped up to the next line end (a non-synchronizing literal announced at the end of that
 *   line is skipped too, so its bytes are not taken for commands).
 * - `TOOBIG`: a literal over `maxLiteral(prefix)`. Synchronizing: reported at once, no
 *   continuation is sent, and the client must not send the literal (RFC 7888 §4, RFC 9051
 *   §7.5), so the next byte starts a new command. Non-synchronizing: the n bytes and the rest
 *   of the command are dropped, then the error is reported (RFC 7888 §4).
 *
 * `maxLiteral` gets the command so far (including the `{n}` line): its length is the command's
 * size so far, so the callback can cap whole commands too. Bare LF is accepted as a line end.
 */

export type ReaderOutput =
  | { readonly kind: 'command'; readonly data: Buffer }
  | { readonly kind: 'error'; readonly tag: string | null; readonly code: 'TOOBIG' | 'LINE'; readonly message: string };

export interface CommandReaderOptions {
  readonly maxLineLength: number;
  readonly maxLiteral: (commandPrefix: Buffer) => number;
  readonly onContinuation: () => void;
  /**
   * Called with each complete command; true stops framing right after it (STARTTLS, COMPRESS:
   * RFC 9051 §6.2.1, RFC 4978 §3): the rest of that chunk is kept, unread, for `takeRemainder`.
   */
  readonly pauseAfter?: (command: Buffer) => boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const INITIAL_CAPACITY = 256;
/** `{` + up to 20 digits + `+}`: the longest literal marker we look for at a line end. */
const MARKER_TAIL = 24;

type State =
  /** Reading a line of the current command. */
  | { readonly kind: 'line' }
  /** Reading `remaining` literal bytes into the current command. */
  | { kind: 'literal'; remaining: number }
  /** Dropping bytes up to the next line end; `then` is reported at that end (if any). */
  | { readonly kind: 'skipLine'; readonly then: ReaderOutput | null }
  /** Dropping `remaining` literal bytes, then the rest of the line. */
  | { kind: 'skipLiteral'; remaining: number; readonly then: ReaderOutput | null };

interface Marker {
  readonly length: number;
  readonly sync: boolean;
}

export class CommandReader {
  private readonly options: CommandReaderOptions;
  private state: State = { kind: 'line' };
  /** The current command's bytes so far: `cmd[0, cmdLen)`. */
  private cmd = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private cmdLen = 0;
  /** Where the current line starts in `cmd`. */
  private lineStart = 0;
  /** The last bytes of a line being skipped, to see a literal marker at its end. */
  private skipTail = Buffer.alloc(MARKER_TAIL);
  private skipTailLen = 0;
  private paused = false;
  /** Bytes after a command `pauseAfter` stopped at. */
  private remainder: Buffer = Buffer.alloc(0);

  constructor(options: CommandReaderOptions) {
    this.options = options;
  }

  /** Feeds bytes; returns the commands and errors completed by them, in order. Never throws. */
  push(chunk: Buffer): ReaderOutput[] {
    if (this.remainder.length > 0) {
      chunk = Buffer.concat([this.remainder, chunk]);
      this.remainder = Buffer.alloc(0);
    }
    const out: ReaderOutput[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.paused) {
        this.paused = false;
        this.remainder = Buffer.from(chunk.subarray(pos));
        break;
      }
      switch (this.state.kind) {
        case 'line':
          pos = this.readLine(chunk, pos, out);
          break;
        case 'literal': {
          const state = this.state;
          const n = Math.min(state.remaining, chunk.length - pos);
          this.append(chunk, pos, pos + n);
          pos += n;
          state.remaining -= n;
          if (state.remaining === 0) {
            this.state = { kind: 'line' };
            this.lineStart = this.cmdLen;
          }
          break;
        }
        case 'skipLine':
          pos = this.skipLine(chunk, pos, out, this.state.then);
          break;
        case 'skipLiteral': {
          const state = this.state;
          const n = Math.min(state.remaining, chunk.length - pos);
          pos += n;
          state.remaining -= n;
          if (state.remaining === 0) this.startSkip(state.then);
          break;
        }
      }
    }
    this.paused = false; // paused at the chunk's end: nothing to keep
    return out;
  }

  /**
   * The bytes received after the command `pauseAfter` stopped at, which the reader has not
   * framed; they are gone from the reader. Drop them after STARTTLS (RFC 9051 §6.2.1: no
   * plaintext injection), push them again when the command failed. Not calling this leaves
   * them to be framed before the next chunk.
   */
  takeRemainder(): Buffer {
    const rest = this.remainder;
    this.remainder = Buffer.alloc(0);
    this.paused = false;
    return rest;
  }

  private readLine(chunk: Buffer, pos: number, out: ReaderOutput[]): number {
    const max = this.options.maxLineLength;
    const lf = chunk.indexOf(LF, pos);
    const end = lf === -1 ? chunk.length : lf;
    const lineLen = this.cmdLen - this.lineStart + (end - pos);
    // The line's length without its CR (a CR last so far may yet be followed by LF).
    const last = end > pos ? chunk[end - 1] : this.cmdLen > this.lineStart ? this.cmd[this.cmdLen - 1] : -1;
    const counted = lineLen - (last === CR ? 1 : 0);
    if (counted > max) {
      // RFC 9051 §4: servers may limit line lengths; drop the line, keep its tag for the reply.
      const keep = Math.min(end - pos, Math.max(0, 64 - this.cmdLen));
      this.append(chunk, pos, pos + keep);
      const tag = extractTag(this.cmd.subarray(0, this.cmdLen));
      out.push({ kind: 'error', tag, code: 'LINE', message: `Line longer than ${max} bytes` });
      this.resetCommand();
      this.startSkip(null);
      return pos; // the skip state consumes the line from here
    }
    if (lf === -1) {
      this.append(chunk, pos, chunk.length);
      return chunk.length;
    }
    this.append(chunk, pos, lf + 1);
    this.endOfLine(out);
    return lf + 1;
  }

  /** The current line (in `cmd`, ending with LF) is complete. */
  private endOfLine(out: ReaderOutput[]): void {
    let contentEnd = this.cmdLen - 1;
    if (contentEnd > this.lineStart && this.cmd[contentEnd - 1] === CR) contentEnd--;
    const marker = findLiteralMarker(this.cmd, this.lineStart, contentEnd);
    if (!marker) {
      const data = this.cmd.subarray(0, contentEnd);
      this.cmd = Buffer.allocUnsafe(INITIAL_CAPACITY);
      this.cmdLen = 0;
      this.lineStart = 0;
      out.push({ kind: 'command', data });
      if (this.options.pauseAfter?.(data)) this.paused = true;
      return;
    }
    const prefix = this.cmd.subarray(0, contentEnd);
    let limit: number;
    try {
      limit = this.options.maxLiteral(prefix);
    } catch {
      limit = 0;
    }
    if (marker.length > limit) {
      const tag = extractTag(prefix);
      const error: ReaderOutput = { kind: 'error', tag, code: 'TOOBIG', message: `Literal of ${marker.length} bytes is too big (limit ${limit})` };
      this.resetCommand();
      if (marker.sync) {
        // RFC 7888 §4: no continuation, so the client sends neither the literal nor the rest.
        out.push(error);
      } else {
        this.state = { kind: 'skipLiteral', remaining: marker.length, then: error };
        if (marker.length === 0) this.startSkip(error);
      }
      return;
    }
    if (marker.sync) this.options.onContinuation(); // RFC 9051 §7.5: "+ Ready"
    this.ensure(this.cmdLen + marker.length);
    if (marker.length === 0) {
      this.lineStart = this.cmdLen;
    } else {
      this.state = { kind: 'literal', remaining: marker.length };
    }
  }

  private startSkip(then: ReaderOutput | null): void {
    this.state = { kind: 'skipLine', then };
    this.skipTailLen = 0;
  }

  private skipLine(chunk: Buffer, pos: number, out: ReaderOutput[], then: ReaderOutput | null): number {
    const lf = chunk.indexOf(LF, pos);
    const end = lf === -1 ? chunk.length : lf;
    this.rememberTail(chunk, pos, end);
    if (lf === -1) return chunk.length;
    let contentEnd = this.skipTailLen;
    if (contentEnd > 0 && this.skipTail[contentEnd - 1] === CR) contentEnd--;
    const marker = findLiteralMarker(this.skipTail, 0, contentEnd);
    if (marker && !marker.sync && marker.length > 0) {
      // The skipped command goes on after a non-synchronizing literal: skip that too.
      this.state = { kind: 'skipLiteral', remaining: marker.length, then };
    } else if (marker && !marker.sync) {
      this.startSkip(then);
    } else {
      if (then) out.push(then);
      this.state = { kind: 'line' };
    }
    return lf + 1;
  }

  private rememberTail(chunk: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n >= MARKER_TAIL) {
      chunk.copy(this.skipTail, 0, end - MARKER_TAIL, end);
      this.skipTailLen = MARKER_TAIL;
      return;
    }
    const keep = Math.min(this.skipTailLen, MARKER_TAIL - n);
    this.skipTail.copy(this.skipTail, 0, this.skipTailLen - keep, this.skipTailLen);
    chunk.copy(this.skipTail, keep, start, end);
    this.skipTailLen = keep + n;
  }

  private resetCommand(): void {
    this.cmdLen = 0;
    this.lineStart = 0;
    if (this.cmd.length > 64 * 1024) this.cmd = Buffer.allocUnsafe(INITIAL_CAPACITY);
  }

  private append(chunk: Buffer, start: number, end: number): void {
    this.ensure(this.cmdLen + (end - start));
    chunk.copy(this.cmd, this.cmdLen, start, end);
    this.cmdLen += end - start;
  }

  private ensure(capacity: number): void {
    if (capacity <= this.cmd.length) return;
    const next = Buffer.allocUnsafe(Math.max(capacity, this.cmd.length * 2));
    this.cmd.copy(next, 0, 0, this.cmdLen);
    this.cmd = next;
  }
}

/** `{n}`, `{n+}` (RFC 7888) or `~{n}` (RFC 3516) ending `buf[start, end)`, else null. */
export function findLiteralMarker(buf: Buffer, start: number, end: number): Marker | null {
  let i = end - 1;
  if (i < start || buf[i] !== 0x7d /* } */) return null;
  i--;
  let sync = true;
  if (i >= start && buf[i] === 0x2b /* + */) {
    sync = false;
    i--;
  }
  const digitsEnd = i + 1;
  while (i >= start && buf[i] >= 0x30 && buf[i] <= 0x39) i--;
  const digits = digitsEnd - (i + 1);
  if (digits === 0 || digits > 20 || i < start || buf[i] !== 0x7b /* { */) return null;
  return { length: Number(buf.toString('latin1', i + 1, digitsEnd)), sync };
}

/** The tag starting `data` (RFC 9051 §9 tag: ASTRING-CHAR except "+"), or null. */
export function extractTag(data: Buffer): string | null {
  let i = 0;
  while (i < data.length && i < 64) {
    const c = data[i];
    if (c === 0x20) break;
    if (c <= 0x20 || c >= 0x7f || c === 0x28 || c === 0x29 || c === 0x7b || c === 0x25 || c === 0x2a || c === 0x22 || c === 0x5c || c === 0x2b) {
      return null;
    }
    i++;
  }
  if (i === 0 || i >= data.length || data[i] !== 0x20) return null;
  return data.toString('latin1', 0, i);
}
