/**
 * Text for brute-force SEARCH/SORT (RFC 9051 §6.4.4): decoded header values and the decoded
 * text of every text/* part (transfer encoding undone, charset decoded, HTML tags crudely
 * removed), including the parts of attached messages.
 */
import { decodeCharset } from './charset.ts';
import { decodeWords, findHeaderEnd, parseHeaderBlock } from './headers.ts';
import { parseStructure } from './structure.ts';
import type { MimePart } from './structure.ts';
import { decodeTransfer } from './transfer.ts';

/** Every value of the top-level header field `field` (case-insensitive), RFC 2047-decoded. */
export function headerValues(raw: Buffer, field: string): string[] {
  const name = field.toLowerCase();
  const out: string[] = [];
  for (const f of parseHeaderBlock(raw, 0, findHeaderEnd(raw, 0, raw.length))) {
    if (f.name.toLowerCase() === name) out.push(decodeWords(f.value));
  }
  return out;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

export function stripHtml(html: string): string {
  return html
    .replace(/<(script|style)\b[^]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[^]*?-->/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    });
}

function collect(raw: Buffer, part: MimePart, out: string[]): void {
  if (part.type === 'multipart') {
    for (const child of part.children) collect(raw, child, out);
  } else if (part.message) {
    collect(raw, part.message, out);
  } else if (part.type === 'text') {
    const body = raw.subarray(part.bodyStart, part.bodyEnd);
    const decoded = decodeTransfer(body, part.encoding) ?? body;
    const charset = part.params.charset;
    // us-ascii mail with 8-bit bytes is nearly always UTF-8 in practice.
    const text = decodeCharset(decoded, !charset || /^(us-)?ascii$/i.test(charset) ? 'utf-8' : charset);
    out.push(part.subtype === 'html' ? stripHtml(text) : text);
  }
}

/** The decoded text of all text/* parts, joined by newlines. */
export function bodyText(raw: Buffer): string {
  const out: string[] = [];
  collect(raw, parseStructure(raw), out);
  return out.join('\n');
}
