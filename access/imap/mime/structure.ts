/**
 * The MIME structure of a raw message (RFC 2045, RFC 2046, RFC 5322) with byte offsets, for
 * IMAP FETCH (RFC 9051 §6.4.5, §7.5.2). Lenient — bare LF, missing or broken boundaries, no
 * header/body separator, 8-bit headers — and bounded: nesting deeper than MAX_DEPTH or more
 * than MAX_PARTS parts leaves the rest as an opaque body (no children, no encapsulated message).
 */
import { fieldValue, findHeaderEnd, scanHeaderFields } from './headers.ts';
import { parseParamValue, stripComments } from './params.ts';

export interface MimePart {
  readonly headerStart: number;
  /** Offset after the blank line that ends the header (== bodyStart). */
  readonly headerEnd: number;
  readonly bodyStart: number;
  /** The line end before a multipart delimiter belongs to the delimiter (RFC 2046 §5.1.1). */
  readonly bodyEnd: number;
  /** Lower-case. */
  readonly type: string;
  readonly subtype: string;
  /** Names lower-case, values as written (RFC 2231 decoded). */
  readonly params: Record<string, string>;
  readonly id: string | null;
  readonly description: string | null;
  /** Upper-case; 7BIT when absent. */
  readonly encoding: string;
  readonly disposition: { readonly type: string; readonly params: Record<string, string> } | null;
  /** Content-Language tags (RFC 3282); empty when absent. */
  readonly language: readonly string[];
  readonly location: string | null;
  readonly md5: string | null;
  /** Body lines, for text/* and message/rfc822 (0 otherwise). */
  readonly lines: number;
  readonly children: readonly MimePart[];
  /** The encapsulated message of message/rfc822 and message/global. */
  readonly message: MimePart | null;
}

export const MAX_DEPTH = 50;
export const MAX_PARTS = 5000;

const LF = 0x0a;
const CR = 0x0d;

interface Budget {
  parts: number;
}

export function parseStructure(raw: Buffer): MimePart {
  return parsePart(raw, 0, raw.length, 0, false, { parts: 0 });
}

/** Lines of `raw[start, end)`: line ends, plus a last line without one. */
export function countLines(raw: Buffer, start: number, end: number): number {
  let lines = 0;
  for (let pos = raw.indexOf(LF, start); pos >= 0 && pos < end; pos = raw.indexOf(LF, pos + 1)) lines++;
  if (end > start && raw[end - 1] !== LF) lines++;
  return lines;
}

function parsePart(raw: Buffer, start: number, end: number, depth: number, inDigest: boolean, budget: Budget): MimePart {
  budget.parts++;
  const headerEnd = findHeaderEnd(raw, start, end);
  const fields = contentFields(raw, start, headerEnd);
  const { type, subtype, params } = contentType(fields.get('content-type') ?? null, inDigest);
  const headerValue = (name: string): string | null => fields.get(name) ?? null;
  const dispositionValue = headerValue('content-disposition');
  const disposition = dispositionValue ? parseParamValue(dispositionValue) : null;
  const language = headerValue('content-language');
  const encoding = stripComments(headerValue('content-transfer-encoding') ?? '').trim().toUpperCase() || '7BIT';
  const withinBudget = depth < MAX_DEPTH && budget.parts < MAX_PARTS;
  const identity = encoding === '7BIT' || encoding === '8BIT' || encoding === 'BINARY';

  let children: MimePart[] = [];
  let message: MimePart | null = null;
  if (type === 'multipart' && withinBudget && params.boundary) {
    children = parseMultipart(raw, headerEnd, end, params.boundary, depth + 1, subtype === 'digest', budget);
  } else if (type === 'message' && (subtype === 'rfc822' || subtype === 'global') && withinBudget && identity) {
    message = parsePart(raw, headerEnd, end, depth + 1, false, budget);
  }
  const counted = type === 'text' || (type === 'message' && (subtype === 'rfc822' || subtype === 'global'));
  return {
    headerStart: start,
    headerEnd,
    bodyStart: headerEnd,
    bodyEnd: end,
    type,
    subtype,
    params,
    id: headerValue('content-id'),
    description: headerValue('content-description'),
    encoding,
    disposition: disposition && disposition.value ? { type: disposition.value.toLowerCase(), params: disposition.params } : null,
    language: language ? stripComments(language).split(',').map((s) => s.trim()).filter(Boolean) : [],
    location: headerValue('content-location'),
    md5: headerValue('content-md5'),
    lines: counted ? countLines(raw, headerEnd, end) : 0,
    children,
    message,
  };
}

/** The first value of each Content-* field (RFC 2045 §9: only those matter in a body part), names lower-case. */
function contentFields(raw: Buffer, start: number, end: number): Map<string, string> {
  const fields = new Map<string, string>();
  scanHeaderFields(raw, start, end, (fieldStart, colon, fieldEnd) => {
    if (colon - fieldStart < 10 || (raw[fieldStart] | 0x20) !== 0x63) return; // 'c'
    const name = raw.toString('latin1', fieldStart, colon).trim().toLowerCase();
    if (name.startsWith('content-') && !fields.has(name)) fields.set(name, fieldValue(raw, colon, fieldEnd));
  });
  return fields;
}

const TOKEN = /^[!#$%&'*+\-.^_`{|}~0-9A-Za-z]+$/;

// RFC 2045 §5.2 default; RFC 2046 §5.1.5 digest default.
function contentType(value: string | null, inDigest: boolean): { type: string; subtype: string; params: Record<string, string> } {
  if (value !== null) {
    const parsed = parseParamValue(value);
    const slash = parsed.value.indexOf('/');
    const type = parsed.value.slice(0, slash).trim().toLowerCase();
    const subtype = parsed.value.slice(slash + 1).trim().toLowerCase();
    if (slash > 0 && TOKEN.test(type) && TOKEN.test(subtype)) return { type, subtype, params: parsed.params };
  }
  if (inDigest) return { type: 'message', subtype: 'rfc822', params: {} };
  return { type: 'text', subtype: 'plain', params: { charset: 'us-ascii' } };
}

/**
 * The body parts between `--boundary` lines (RFC 2046 §5.1.1). A delimiter is `--boundary` at
 * the start of a line, then optional `--` (the close delimiter) and white space to the line
 * end. No delimiter at all: no parts; no close delimiter: the last part runs to `end`.
 */
function parseMultipart(raw: Buffer, start: number, end: number, boundary: string, depth: number, digest: boolean, budget: Budget): MimePart[] {
  const marker = Buffer.from('--' + boundary, 'utf8');
  const parts: MimePart[] = [];
  let partStart = -1;
  let pos = start;
  while (pos < end) {
    const at = raw.indexOf(marker, pos);
    if (at < 0 || at + marker.length > end) break;
    pos = at + marker.length;
    if (at !== start && raw[at - 1] !== LF) continue;
    let cursor = pos;
    const close = raw[cursor] === 0x2d && raw[cursor + 1] === 0x2d && cursor + 1 < end;
    if (close) cursor += 2;
    while (cursor < end && (raw[cursor] === 0x20 || raw[cursor] === 0x09 || raw[cursor] === CR)) cursor++;
    if (cursor < end && raw[cursor] !== LF) continue; // a longer boundary, or text after it
    const lineEnd = cursor < end ? cursor + 1 : end;
    if (partStart >= 0) {
      let partEnd = at;
      if (partEnd > partStart && raw[partEnd - 1] === LF) partEnd--;
      if (partEnd > partStart && raw[partEnd - 1] === CR) partEnd--;
      if (budget.parts >= MAX_PARTS) return parts;
      parts.push(parsePart(raw, partStart, partEnd, depth, digest, budget));
    }
    if (close) return parts;
    partStart = lineEnd;
    pos = lineEnd;
  }
  if (partStart >= 0 && budget.parts < MAX_PARTS) parts.push(parsePart(raw, partStart, end, depth, digest, budget));
  return parts;
}
