/**
 * A multipart boundary scanner over the raw bytes of a message: the byte ranges of every MIME
 * entity (header start, body start, body end) as a tree. The split-attachments stage cuts large
 * leaf bodies out by these ranges; IMAP BODYSTRUCTURE and BODY[n] can read the same tree.
 *
 * Offsets are exact byte positions in the raw message. A body ends before the line end that
 * precedes the next boundary delimiter line, which belongs to the delimiter (RFC 2046 §5.1.1).
 * Broken MIME never gives a wrong range: what cannot be delimited is left out (a multipart whose
 * boundary never occurs has no children) or flagged (`delimited: false` for a last part that no
 * boundary line ends). Depth and part count are capped against MIME bombs.
 */
import { findHeaderSection, parseContentType, parseHeaderFields } from './headers.ts';

export interface PartRange {
  readonly headerStart: number;
  readonly bodyStart: number;
  /** Exclusive. */
  readonly bodyEnd: number;
  /** Lowercase `type/subtype`, with the RFC 2045 §5.2 / RFC 2046 §5.1.5 defaults applied. */
  readonly contentType: string;
  /** Lowercase Content-Transfer-Encoding, '7bit' when absent (RFC 2045 §6.1). */
  readonly transferEncoding: string;
  /** The boundary of a multipart entity, else null. */
  readonly boundary: string | null;
  /** False when the end of this entity is only the end of its parent, with no boundary line closing it. */
  readonly delimited: boolean;
  /** Parts of a multipart; the encapsulated message of a message/rfc822 part. */
  readonly children: readonly PartRange[];
}

export interface ScanOptions {
  /** Entities nested deeper than this are not descended into (their children are left empty). */
  readonly maxDepth?: number;
  /** At most this many entities in the tree. */
  readonly maxParts?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const WANTED = new Set(['content-type', 'content-transfer-encoding']);
const IDENTITY_ENCODINGS = new Set(['7bit', '8bit', 'binary']);

interface Delimiter {
  readonly lineStart: number;
  readonly lineEnd: number;
  readonly close: boolean;
}

export function scanParts(raw: Buffer, options: ScanOptions = {}): PartRange {
  const maxDepth = options.maxDepth ?? 32;
  let budget = options.maxParts ?? 2000;

  const entity = (start: number, end: number, depth: number, defaultType: string, delimited: boolean): PartRange => {
    budget--;
    const { headerEnd, bodyStart } = findHeaderSection(raw, start, end);
    const fields = parseHeaderFields(raw, start, headerEnd, WANTED);
    const ctField = fields.find((f) => f.name === 'content-type');
    const ct = ctField ? parseContentType(ctField.value) : null;
    const contentType = ct?.type ?? (ctField ? 'text/plain' : defaultType);
    const cte = fields.find((f) => f.name === 'content-transfer-encoding')?.value.toLowerCase() || '7bit';
    const boundaryParam = ct?.params.get('boundary');
    const boundary = contentType.startsWith('multipart/') && boundaryParam ? boundaryParam : null;
    const base = { headerStart: start, bodyStart, bodyEnd: end, contentType, transferEncoding: cte, boundary, delimited };
    if (depth >= maxDepth || budget <= 0 || bodyStart >= end) return { ...base, children: [] };

    if (boundary !== null) {
      const childType = contentType === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
      const children: PartRange[] = [];
      const delimiters = findDelimiters(raw, bodyStart, end, boundary);
      for (let i = 0; i < delimiters.length && budget > 0; i++) {
        const d = delimiters[i];
        if (d.close) break;
        const next = delimiters[i + 1];
        if (next) {
          children.push(entity(d.lineEnd, Math.max(d.lineEnd, bodyEndBefore(raw, next.lineStart)), depth + 1, childType, true));
        } else {
          // No close delimiter: the last part runs to the parent's end, which nothing confirms.
          children.push(entity(d.lineEnd, end, depth + 1, childType, false));
        }
      }
      return { ...base, children };
    }
    if ((contentType === 'message/rfc822' || contentType === 'message/global') && IDENTITY_ENCODINGS.has(cte)) {
      // RFC 2046 §5.2.1: the body is a whole message; its entity spans the body.
      return { ...base, children: [entity(bodyStart, end, depth + 1, 'text/plain', delimited)] };
    }
    return { ...base, children: [] };
  };

  return entity(0, raw.length, 0, 'text/plain', true);
}

/**
 * RFC 2046 §5.1.1: a delimiter line is "--" boundary at the start of a line, "--" more for the
 * close delimiter, then optional linear white space up to the line end.
 */
function findDelimiters(raw: Buffer, start: number, end: number, boundary: string): Delimiter[] {
  const needle = Buffer.from(`--${boundary}`, 'utf8');
  const body = raw.subarray(start, end);
  const found: Delimiter[] = [];
  let from = 0;
  while (from < body.length) {
    const idx = body.indexOf(needle, from);
    if (idx < 0) break;
    const at = start + idx;
    from = idx + 1;
    if (at !== start && raw[at - 1] !== LF) continue;
    let p = at + needle.length;
    let close = false;
    if (p + 1 < end && raw[p] === 0x2d && raw[p + 1] === 0x2d) {
      close = true;
      p += 2;
    }
    while (p < end && (raw[p] === 0x20 || raw[p] === 0x09)) p++;
    let lineEnd: number;
    if (p >= end) lineEnd = end;
    else if (raw[p] === LF) lineEnd = p + 1;
    else if (raw[p] === CR && p + 1 < end && raw[p + 1] === LF) lineEnd = p + 2;
    else continue;
    found.push({ lineStart: at, lineEnd, close });
    if (close) break;
    from = lineEnd - start;
  }
  return found;
}

/** The end of a body followed by a delimiter line at `lineStart`: before the CRLF (or LF) preceding it. */
function bodyEndBefore(raw: Buffer, lineStart: number): number {
  if (raw[lineStart - 1] !== LF) return lineStart;
  return raw[lineStart - 2] === CR ? lineStart - 2 : lineStart - 1;
}

/** Leaf entities (no children) in document order. */
export function leafParts(root: PartRange): PartRange[] {
  const out: PartRange[] = [];
  const walk = (node: PartRange): void => {
    if (node.children.length === 0) out.push(node);
    else node.children.forEach(walk);
  };
  walk(root);
  return out;
}
