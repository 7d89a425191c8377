/**
 * Byte-level helpers for MIME entity headers: where a header section ends, its fields, and the
 * Content-Type value with its parameters. They work on a Buffer range and never throw.
 */

const LF = 0x0a;
const CR = 0x0d;

export interface HeaderSection {
  /** End (exclusive) of the header lines, their last line end included. */
  readonly headerEnd: number;
  /** First byte of the body, after the empty line; equals `end` when there is no body. */
  readonly bodyStart: number;
}

/**
 * RFC 5322 §2.1: the header section ends at the first empty line. Accepts CRLF and bare LF line
 * ends. Without an empty line, the whole range is header and the body is empty.
 */
export function findHeaderSection(raw: Buffer, start: number, end: number): HeaderSection {
  if (start >= end) return { headerEnd: end, bodyStart: end };
  if (raw[start] === LF) return { headerEnd: start, bodyStart: start + 1 };
  if (raw[start] === CR && start + 1 < end && raw[start + 1] === LF) return { headerEnd: start, bodyStart: start + 2 };
  const view = raw.subarray(start, end);
  const crlf = view.indexOf('\n\r\n');
  const lf = view.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return { headerEnd: end, bodyStart: end };
  if (lf < 0 || (crlf >= 0 && crlf < lf)) return { headerEnd: start + crlf + 1, bodyStart: start + crlf + 3 };
  return { headerEnd: start + lf + 1, bodyStart: start + lf + 2 };
}

export interface HeaderField {
  /** Lowercase field name. */
  readonly name: string;
  /** Unfolded value (RFC 5322 §2.2.3), trimmed, bytes read as UTF-8. */
  readonly value: string;
}

/**
 * The fields of a header section, in order. `wanted` limits the result to those names (lowercase)
 * so a megabyte of other headers costs one scan and no string copies.
 */
export function parseHeaderFields(raw: Buffer, start: number, end: number, wanted?: ReadonlySet<string>): HeaderField[] {
  const fields: HeaderField[] = [];
  let current: { name: string; parts: string[] } | null = null;
  const flush = (): void => {
    if (current) fields.push({ name: current.name, value: current.parts.join('').replace(/\r?\n/g, '').trim() });
    current = null;
  };
  let at = start;
  while (at < end) {
    let eol = raw.subarray(at, end).indexOf(LF);
    eol = eol < 0 ? end : at + eol + 1;
    const first = raw[at];
    if (first === 0x20 || first === 0x09) {
      // RFC 5322 §2.2.3: a folded continuation line.
      if (current) current.parts.push(raw.toString('utf8', at, eol));
    } else {
      flush();
      const colon = raw.subarray(at, eol).indexOf(0x3a);
      if (colon > 0) {
        const name = raw.toString('latin1', at, at + colon).trim().toLowerCase();
        if (!wanted || wanted.has(name)) current = { name, parts: [raw.toString('utf8', at + colon + 1, eol)] };
      }
    }
    at = eol;
  }
  flush();
  return fields;
}

/**
 * The message without the top-level header fields `drop` picks (each field with its folded
 * continuation lines, RFC 5322 §2.2.3); every other byte is kept as it was. `dropped` counts
 * the fields removed; with none, `raw` itself is returned.
 */
export function dropHeaderFields(raw: Buffer, drop: (field: HeaderField) => boolean): { raw: Buffer; dropped: number } {
  const { headerEnd } = findHeaderSection(raw, 0, raw.length);
  const kept: Buffer[] = [];
  let dropped = 0;
  let keptFrom = 0;
  let at = 0;
  while (at < headerEnd) {
    // One field: its first line and the continuation lines (starting with WSP) after it.
    let end = at;
    do {
      const eol = raw.subarray(end, headerEnd).indexOf(LF);
      end = eol < 0 ? headerEnd : end + eol + 1;
    } while (end < headerEnd && (raw[end] === 0x20 || raw[end] === 0x09));
    const [field] = parseHeaderFields(raw, at, end);
    if (field && drop(field)) {
      kept.push(raw.subarray(keptFrom, at));
      keptFrom = end;
      dropped++;
    }
    at = end;
  }
  if (dropped === 0) return { raw, dropped };
  kept.push(raw.subarray(keptFrom));
  return { raw: Buffer.concat(kept), dropped };
}

/** A structured field value with its RFC 5322 §3.2.2 comments removed. */
export function withoutComments(value: string): string {
  return stripComments(value);
}

export interface ContentType {
  /** Lowercase `type/subtype`. */
  readonly type: string;
  /** Parameters by lowercase name, quotes removed. */
  readonly params: ReadonlyMap<string, string>;
}

/**
 * RFC 2045 §5.1 Content-Type with its parameters (quoted strings and comments handled). A value
 * that is not `type/subtype` gives null; the caller applies the default (RFC 2045 §5.2).
 */
export function parseContentType(value: string): ContentType | null {
  const semi = value.indexOf(';');
  const type = stripComments(semi < 0 ? value : value.slice(0, semi))
    .trim()
    .toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) return null;
  const params = new Map<string, string>();
  let i = semi < 0 ? value.length : semi + 1;
  while (i < value.length) {
    while (i < value.length && (value[i] === ';' || value[i] === ' ' || value[i] === '\t')) i++;
    if (value[i] === '(') {
      i = skipComment(value, i);
      continue;
    }
    const eq = value.indexOf('=', i);
    if (eq < 0) break;
    const name = value.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (value[i] === ' ' || value[i] === '\t') i++;
    let v = '';
    if (value[i] === '"') {
      i++;
      while (i < value.length && value[i] !== '"') {
        if (value[i] === '\\' && i + 1 < value.length) i++;
        v += value[i++];
      }
      i++;
    } else {
      const stop = value.slice(i).search(/[;\s(]/);
      const to = stop < 0 ? value.length : i + stop;
      v = value.slice(i, to);
      i = to;
    }
    if (name && !params.has(name)) params.set(name, v);
  }
  return { type, params };
}

function skipComment(s: string, i: number): number {
  let depth = 0;
  for (; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i + 1;
  }
  return s.length;
}

function stripComments(s: string): string {
  if (!s.includes('(')) return s;
  let out = '';
  for (let i = 0; i < s.length; ) {
    if (s[i] === '(') i = skipComment(s, i);
    else out += s[i++];
  }
  return out;
}
