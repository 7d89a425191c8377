/**
 * Attachment bodies the parse stage never reads, left out before postal-mime decodes them. The
 * stage needs an attachment's name, type and size, not its bytes, and decoding large base64
 * bodies was most of its CPU. `elideAttachmentBodies` replaces each large attachment body by a
 * short marker (in the part's own transfer encoding, headers kept), and gives the size postal-
 * mime would have reported for the real body, computed from the encoded bytes.
 *
 * Markers make the shortcut checkable: after parsing the reduced message, every marker must come
 * back as the exact content of exactly one attachment (`sizesOfElided`). Anything else — postal-
 * mime read a part as text, a nested message, or cut the parts differently from `scanParts` —
 * means the caller parses the original message instead.
 */
import { randomBytes } from 'node:crypto';
import { findHeaderSection, parseHeaderFields } from './headers.ts';
import { scanParts } from './part-ranges.ts';
import type { PartRange } from './part-ranges.ts';

export interface ElidedPart {
  /** The content postal-mime decodes from the marker that replaced the body. */
  readonly expected: Buffer;
  /** The size postal-mime reports for the original body. */
  readonly size: number;
}

export interface ElidedMessage {
  readonly reduced: Buffer;
  readonly elided: readonly ElidedPart[];
}

export interface ElideOptions {
  /** Bodies of at most this many encoded bytes are left in place (decoding them is cheap). */
  readonly minBodyBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const EQUALS = 0x3d;
const DISPOSITION = new Set(['content-disposition']);
/** Text postal-mime reads into the body when inline (its isInlineTextNode). */
const INLINE_TEXT = new Set(['text/plain', 'text/html']);
/** postal-mime rewrites these attachments' content (to normalized UTF-8 text), so their size is its own. */
const REWRITTEN = new Set(['text/calendar', 'application/ics']);
/** Per process, so no attachment can be made to look like a marker. */
const NONCE = randomBytes(9).toString('base64url');

/**
 * The message with its large attachment bodies replaced by markers, or null when there is none
 * or the MIME structure is not fully delimited (then only a full parse is faithful).
 */
export function elideAttachmentBodies(raw: Buffer, options: ElideOptions = {}): ElidedMessage | null {
  const minBodyBytes = options.minBodyBytes ?? 2048;
  const root = scanParts(raw);
  const candidates: PartRange[] = [];
  let broken = false;
  const walk = (node: PartRange): void => {
    if (!node.delimited) broken = true;
    if (node.boundary !== null) {
      node.children.forEach(walk);
      return;
    }
    if (node.contentType.startsWith('multipart/')) return; // no boundary: postal-mime's reading is its own
    const attachment = dispositionOf(raw, node) === 'attachment';
    if (node.contentType === 'message/rfc822' && !attachment && node.children.length > 0) {
      node.children.forEach(walk); // postal-mime parses an inline message in place
      return;
    }
    if (node.contentType === 'message/rfc822' && !attachment) return;
    if (INLINE_TEXT.has(node.contentType) && !attachment) return;
    if (REWRITTEN.has(node.contentType)) return;
    if (node.bodyEnd - node.bodyStart > minBodyBytes) candidates.push(node);
  };
  walk(root);
  if (broken || candidates.length === 0) return null;

  const pieces: Buffer[] = [];
  const elided: ElidedPart[] = [];
  let at = 0;
  candidates.forEach((part, i) => {
    const { body, expected } = marker(`sluice-elided-${NONCE}-${i}`, part.transferEncoding);
    pieces.push(raw.subarray(at, part.bodyStart), body);
    elided.push({ expected, size: decodedSize(raw, part.bodyStart, part.bodyEnd, part.transferEncoding) });
    at = part.bodyEnd;
  });
  pieces.push(raw.subarray(at));
  return { reduced: Buffer.concat(pieces), elided };
}

/**
 * For each attachment of the reduced message, the original size when it is an elided part, else
 * null; or null overall when the markers did not come back one to one (parse the original).
 */
export function sizesOfElided(
  attachments: readonly { readonly content: ArrayBuffer | Uint8Array | string }[],
  elided: readonly ElidedPart[],
): (number | null)[] | null {
  const sizes: (number | null)[] = [];
  let next = 0;
  for (const a of attachments) {
    const c = a.content;
    const content = typeof c === 'string' ? Buffer.from(c) : c instanceof Uint8Array ? Buffer.from(c.buffer, c.byteOffset, c.byteLength) : Buffer.from(c);
    const match = elided.findIndex((e) => e.expected.equals(content));
    if (match < 0) {
      sizes.push(null);
      continue;
    }
    // postal-mime lists attachments in document order, as the markers were placed.
    if (match !== next) return null;
    next++;
    sizes.push(elided[match].size);
  }
  return next === elided.length ? sizes : null;
}

function dispositionOf(raw: Buffer, part: PartRange): string {
  const { headerEnd } = findHeaderSection(raw, part.headerStart, part.bodyEnd);
  const value = parseHeaderFields(raw, part.headerStart, headerEnd, DISPOSITION)[0]?.value ?? '';
  return value.split(';')[0].trim().toLowerCase();
}

type Decoding = 'base64' | 'quoted-printable' | 'none';

/** postal-mime's choice of decoder (MimeNode.setupContentDecoder). */
function decodingOf(transferEncoding: string): Decoding {
  if (/base64/i.test(transferEncoding)) return 'base64';
  if (/quoted-printable/i.test(transferEncoding)) return 'quoted-printable';
  return 'none';
}

/** A marker body in the part's encoding, and what each decoder makes of it (all three differ). */
function marker(token: string, transferEncoding: string): { body: Buffer; expected: Buffer } {
  switch (decodingOf(transferEncoding)) {
    case 'base64':
      return { body: Buffer.from(Buffer.from(`${token}=`).toString('base64')), expected: Buffer.from(`${token}=`) };
    case 'quoted-printable':
      // RFC 2045 §6.7: "=3D" is an equals sign, a final "=" a soft line break.
      return { body: Buffer.from(`${token}=3D=`), expected: Buffer.from(`${token}=`) };
    case 'none':
      return { body: Buffer.from(`${token}=`), expected: Buffer.from(`${token}=\n`) };
  }
}

/**
 * The byte length postal-mime gives the decoded body `raw[start, end)`, without decoding it. It
 * reads line by line (trailing CRs dropped); base64 (RFC 2045 §6.8) keeps only alphabet
 * characters and decodes each run between "=" paddings on its own; quoted-printable (RFC 2045
 * §6.7) turns valid =XX escapes into one byte and ends each line without a soft break with LF;
 * anything else is each line plus LF.
 */
export function decodedSize(raw: Buffer, start: number, end: number, transferEncoding: string): number {
  const decoding = decodingOf(transferEncoding);
  if (decoding === 'base64') return base64Size(raw, start, end);
  let size = 0;
  let lineStart = start;
  while (lineStart <= end) {
    let lf = raw.indexOf(LF, lineStart);
    if (lf < 0 || lf >= end) lf = end;
    let lineEnd = lf;
    while (lineEnd > lineStart && raw[lineEnd - 1] === CR) lineEnd--;
    size += decoding === 'quoted-printable' ? qpLineSize(raw, lineStart, lineEnd) : lineEnd - lineStart + 1;
    if (lf === end) break;
    lineStart = lf + 1;
  }
  return size;
}

function base64Size(raw: Buffer, start: number, end: number): number {
  let size = 0;
  let unit = 0;
  for (let i = start; i < end; i++) {
    const kind = BASE64_KIND[raw[i]];
    if (kind === ALPHABET) unit++;
    else if (kind === PAD) {
      size += base64UnitSize(unit);
      unit = 0;
    }
  }
  return size + base64UnitSize(unit);
}

const ALPHABET = 1;
const PAD = 2;
/** RFC 2045 §6.8 alphabet and pad character; postal-mime ignores every other byte. */
const BASE64_KIND = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_KIND[c.charCodeAt(0)] = ALPHABET;
BASE64_KIND[EQUALS] = PAD;

/** Bytes in `n` base64 characters with no padding; a lone trailing character encodes none. */
function base64UnitSize(n: number): number {
  const len = n % 4 === 1 ? n - 1 : n;
  const rest = len % 4;
  return Math.floor(len / 4) * 3 + (rest ? rest - 1 : 0);
}

function qpLineSize(raw: Buffer, start: number, end: number): number {
  const softBreak = end > start && raw[end - 1] === EQUALS;
  const len = softBreak ? end - 1 : end;
  let size = 0;
  for (let i = start; i < len; i++) {
    size++;
    if (raw[i] === EQUALS && i + 2 < len && isHex(raw[i + 1]) && isHex(raw[i + 2])) i += 2;
  }
  return softBreak ? size : size + 1;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
