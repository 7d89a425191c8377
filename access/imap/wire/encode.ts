/**
 * Response data to bytes (RFC 9051 §4, §9 formal syntax): NIL, numbers, quoted strings,
 * literals, literal8 (RFC 3516), atoms and parenthesized lists, plus the small formatters the
 * handlers need (sequence sets, date-time). Text accumulates as a JS string and becomes a
 * Buffer only where a Buffer value breaks it, so a large FETCH response costs few copies.
 */
import type { ImapValue } from './data.ts';

export interface EncodeOptions {
  /** IMAP4rev2 / UTF8=ACCEPT: UTF-8 is allowed in quoted strings (RFC 9051 §4.3, RFC 6855 §3). */
  readonly utf8?: boolean;
}

/** Longer strings go out as literals: quoted strings are meant for short values. */
const MAX_QUOTED = 1024;

/** Whether `s` can be a quoted string (RFC 9051 §9 quoted: QUOTED-CHAR, no CR/LF/NUL). */
function quotable(s: string, utf8: boolean): boolean {
  if (s.length > MAX_QUOTED) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
    if (c > 0x7e) {
      if (!utf8) return false;
      // A lone surrogate is not UTF-8.
      if (c >= 0xd800 && c <= 0xdbff) {
        const d = s.charCodeAt(i + 1);
        if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
        i++;
      } else if (c >= 0xdc00 && c <= 0xdfff) {
        return false;
      }
    }
  }
  return true;
}

function escapeQuoted(s: string): string {
  let needs = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) {
      needs = true;
      break;
    }
  }
  return needs ? s.replace(/["\\]/g, '\\$&') : s;
}

/**
 * `"…"` with `\` and `"` escaped (RFC 9051 §4.3). Throws a RangeError when `s` cannot be
 * quoted (CR, LF, NUL or other controls); use `encodeValue` for arbitrary strings.
 */
export function quoteString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw new RangeError('A quoted string cannot hold control characters');
  }
  return `"${escapeQuoted(s)}"`;
}

/** Response bytes to write: text (written as UTF-8) or bytes. */
export type Chunk = string | Buffer;

class Sink {
  /** Text and Buffer values in order; a Buffer is kept as it is, never copied here. */
  private readonly chunks: Chunk[] = [];
  private text = '';

  constructor(private readonly utf8: boolean) {}

  str(s: string): void {
    this.text += s;
  }

  buf(b: Buffer): void {
    if (this.text !== '') {
      this.chunks.push(this.text);
      this.text = '';
    }
    this.chunks.push(b);
  }

  value(v: ImapValue): void {
    if (v === null) {
      this.text += 'NIL';
    } else if (typeof v === 'number') {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`Not an IMAP number: ${v}`);
      this.text += String(v);
    } else if (typeof v === 'string') {
      if (quotable(v, this.utf8)) {
        this.text += `"${escapeQuoted(v)}"`;
      } else {
        // RFC 9051 §4.3 literal: `{n}` CRLF and n octets.
        this.text += `{${Buffer.byteLength(v, 'utf8')}}\r\n${v}`;
      }
    } else if (Buffer.isBuffer(v)) {
      this.text += `{${v.length}}\r\n`;
      this.buf(v);
    } else if (Array.isArray(v)) {
      this.text += '(';
      for (let i = 0; i < v.length; i++) {
        if (i > 0) this.text += ' ';
        this.value(v[i] as ImapValue);
      }
      this.text += ')';
    } else {
      this.text += (v as { readonly atom: string }).atom;
    }
  }

  /**
   * The response as text pieces and the Buffer values between them, in order, uncopied: a
   * literal of a message's bytes goes to the socket as the very Buffer that was read (a
   * gathered write, `connection.ts`). Text only: one string (cheaper to join into a larger write).
   */
  toChunks(): Chunk[] {
    if (this.text !== '') {
      this.chunks.push(this.text);
      this.text = '';
    }
    return this.chunks;
  }

  toBuffer(): Buffer {
    const chunks = this.toChunks().map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c));
    if (chunks.length === 0) return Buffer.alloc(0);
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }
}

/** One value as IMAP data: NIL, number, quoted string or literal, atom, `(…)` list. */
export function encodeValue(value: ImapValue, options: EncodeOptions = {}): Buffer {
  const sink = new Sink(options.utf8 === true);
  sink.value(value);
  return sink.toBuffer();
}

/** `~{n}` CRLF and the bytes: a literal8, for BINARY data that may hold NUL (RFC 3516 §4.2). */
export function literal8(buf: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`~{${buf.length}}\r\n`, 'latin1'), buf]);
}

/** Numbers as a compact sequence set, ascending, duplicates merged: `1:3,5,7:9` (RFC 9051 §9). '' when empty. */
export function formatSequenceSet(nums: readonly number[]): string {
  if (nums.length === 0) return '';
  let sorted = nums;
  for (let i = 1; i < nums.length; i++) {
    if (nums[i] <= nums[i - 1]) {
      sorted = [...nums].sort((a, b) => a - b);
      break;
    }
  }
  const parts: string[] = [];
  let start = sorted[0];
  let prev = start;
  for (let i = 1; i <= sorted.length; i++) {
    const n = i < sorted.length ? sorted[i] : NaN;
    if (n === prev) continue;
    if (n === prev + 1) {
      prev = n;
      continue;
    }
    parts.push(start === prev ? String(start) : `${start}:${prev}`);
    start = n;
    prev = n;
  }
  return parts.join(',');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * A quoted date-time (RFC 9051 §9): `"17-Jul-1996 02:44:25 -0700"`, as local time in the zone
 * `tzOffsetMinutes` east of UTC (default `+0000`). The day is space-padded (date-day-fixed).
 */
export function formatInternalDate(ms: number, tzOffsetMinutes = 0): string {
  const d = new Date(ms + tzOffsetMinutes * 60_000);
  const day = d.getUTCDate();
  const sign = tzOffsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(tzOffsetMinutes);
  const zone = `${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
  const year = String(d.getUTCFullYear()).padStart(4, '0');
  const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  return `"${day < 10 ? ` ${day}` : day}-${MONTHS[d.getUTCMonth()]}-${year} ${time} ${zone}"`;
}

/**
 * Builds a response line from protocol text and data values, e.g.
 * `new ResponseBuilder().text('* 12 FETCH (FLAGS ').value(flags).text(')\r\n').toBuffer()`.
 * Nothing is added between the pieces: spaces and the final CRLF are the caller's.
 */
export class ResponseBuilder {
  private readonly sink: Sink;

  constructor(options: EncodeOptions = {}) {
    this.sink = new Sink(options.utf8 === true);
  }

  text(s: string): this {
    this.sink.str(s);
    return this;
  }

  value(v: ImapValue): this {
    this.sink.value(v);
    return this;
  }

  bytes(b: Buffer): this {
    this.sink.buf(b);
    return this;
  }

  toBuffer(): Buffer {
    return this.sink.toBuffer();
  }

  /** Text pieces (written as UTF-8) and the Buffer values between them, uncopied (see `Sink.toChunks`). */
  toChunks(): Chunk[] {
    return this.sink.toChunks();
  }
}
