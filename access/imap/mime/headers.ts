/**
 * Header blocks (RFC 5322 §2.2): where a header ends, its fields unfolded, RFC 2047 encoded
 * words. Lenient: bare LF line ends, 8-bit bytes (read as UTF-8, RFC 6532), lines without a
 * colon are skipped, continuation lines before any field are skipped.
 */
import { decodeCharset } from './charset.ts';

export { parseAddressList } from './address.ts';
export type { Address, AddressGroup, AddressMailbox } from './address.ts';

export interface HeaderField {
  /** The field name as written. */
  readonly name: string;
  /** Unfolded (line breaks before white space removed), trimmed, read as UTF-8. */
  readonly value: string;
  /** The field's bytes, folding and its line end included. */
  readonly raw: Buffer;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * The end of the header that starts at `start`: `headerEnd` is the offset after the blank
 * line (CRLF or bare LF), or `end` when there is none (the whole range is header, RFC 5322 §2.1
 * allows no body). A range that starts with a blank line has an empty header.
 */
export function findHeaderEnd(buf: Buffer, start: number, end: number): number {
  let lineStart = start;
  while (lineStart < end) {
    const nl = buf.indexOf(LF, lineStart);
    if (nl < 0 || nl >= end) return end;
    // A line that is empty or only a CR is the separator.
    if (nl === lineStart || (nl === lineStart + 1 && buf[lineStart] === CR)) return nl + 1;
    lineStart = nl + 1;
  }
  return end;
}

/**
 * Calls `visit` for each field of the header block `buf[start, end)` with the field's bounds:
 * the name is `[fieldStart, colon)`, the value `(colon, fieldEnd)`. Stops at the blank line
 * or when `visit` returns false. The allocation-free core of parseHeaderBlock.
 */
export function scanHeaderFields(
  buf: Buffer,
  start: number,
  end: number,
  visit: (fieldStart: number, colon: number, fieldEnd: number) => boolean | void,
): void {
  let pos = start;
  while (pos < end) {
    let nl = buf.indexOf(LF, pos);
    if (nl < 0 || nl >= end) nl = end - 1;
    const first = buf[pos];
    if (first === LF || (first === CR && (pos + 1 >= end || buf[pos + 1] === LF))) return; // blank line
    // The field goes on while the next line starts with white space (RFC 5322 §2.2.3).
    let fieldEnd = nl + 1;
    while (fieldEnd < end && (buf[fieldEnd] === 0x20 || buf[fieldEnd] === 0x09)) {
      const next = buf.indexOf(LF, fieldEnd);
      fieldEnd = next < 0 || next >= end ? end : next + 1;
    }
    if (first !== 0x20 && first !== 0x09) {
      const colon = buf.indexOf(0x3a, pos);
      if (colon > pos && colon < fieldEnd && visit(pos, colon, fieldEnd) === false) return;
    }
    pos = fieldEnd;
  }
}

/** The value of a field scanned by scanHeaderFields: unfolded, trimmed, read as UTF-8. */
export function fieldValue(buf: Buffer, colon: number, fieldEnd: number): string {
  return unfold(buf.toString('utf8', colon + 1, fieldEnd));
}

/** The fields of the header block `buf[start, end)` (the blank line may be included). */
export function parseHeaderBlock(buf: Buffer, start = 0, end = buf.length): HeaderField[] {
  const fields: HeaderField[] = [];
  scanHeaderFields(buf, start, end, (fieldStart, colon, fieldEnd) => {
    const name = buf.toString('latin1', fieldStart, colon).trim();
    if (name.length > 0) fields.push({ name, value: fieldValue(buf, colon, fieldEnd), raw: buf.subarray(fieldStart, fieldEnd) });
  });
  return fields;
}

function unfold(text: string): string {
  return (text.includes('\n') ? text.replace(/\r?\n/g, '') : text).trim();
}

/** The first value of `name` (case-insensitive), or null. */
export function headerValue(fields: readonly HeaderField[], name: string): string | null {
  const lower = name.toLowerCase();
  for (const field of fields) if (field.name.toLowerCase() === lower) return field.value;
  return null;
}

// RFC 2047 §2: =?charset?encoding?encoded-text?=  (charset may carry an RFC 2231 *language).
const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?]*)\?=/g;

/**
 * Decodes RFC 2047 encoded words (B and Q). White space between adjacent encoded words is
 * dropped (RFC 2047 §6.2) and adjacent words in the same charset are decoded together, so a
 * character split across words survives. Malformed words are left as they are.
 */
export function decodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  let out = '';
  let last = 0;
  let pending: { charset: string; bytes: Buffer[] } | null = null;
  const flush = (): void => {
    if (pending) out += decodeCharset(Buffer.concat(pending.bytes), pending.charset);
    pending = null;
  };
  for (const match of value.matchAll(ENCODED_WORD)) {
    const index = match.index ?? 0;
    const between = value.slice(last, index);
    const adjacent = pending !== null && /^[ \t\r\n]*$/.test(between);
    if (!adjacent) {
      flush();
      out += between;
    }
    const charset = match[1].split('*')[0];
    const bytes = match[2].toUpperCase() === 'B' ? decodeBase64Word(match[3]) : decodeQWord(match[3]);
    const current = pending as { charset: string; bytes: Buffer[] } | null;
    if (current && current.charset.toLowerCase() === charset.toLowerCase()) current.bytes.push(bytes);
    else {
      flush();
      pending = { charset, bytes: [bytes] };
    }
    last = index + match[0].length;
  }
  flush();
  return out + value.slice(last);
}

function decodeBase64Word(text: string): Buffer {
  return Buffer.from(text.replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
}

// RFC 2047 §4.2: "_" is a space, =XX a byte.
function decodeQWord(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f) bytes.push(0x20);
    else if (c === 0x3d && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else for (const b of Buffer.from(text[i], 'utf8')) bytes.push(b);
  }
  return Buffer.from(bytes);
}
