/**
 * What the parse stage reads from a raw message, with postal-mime (chosen over mailparser by
 * bench/parse-compare.ts, see processors/parse.ts). Never throws: a message postal-mime rejects
 * (nesting or header limits, a parser fault) is read again from its top-level header section
 * alone, and if even that fails the result is empty but valid.
 *
 * Large attachment bodies are not decoded (mime/elide-bodies.ts): postal-mime reads the message
 * with markers in their place, and their sizes come from the encoded bytes — the same names,
 * types, sizes and text as a full parse, which runs whenever the markers do not check out.
 */
import PostalMime from 'postal-mime';
import type { Address as PostalAddress, Email } from 'postal-mime';
import { decodeWords } from 'postal-mime';
import { convert } from 'html-to-text';
import type { AddressRecord, ParsedMail } from '../../schemas/types.ts';
import { findHeaderSection, parseHeaderFields } from './headers.ts';
import { elideAttachmentBodies, sizesOfElided } from './elide-bodies.ts';
import { addressListText } from '../../access/imap/mime/address.ts';

/** What the parse stage reads: a ParsedMail without the envelope it carries along. */
export type MessageFields = Omit<ParsedMail, 'received' | 'addedHeaders'>;

export interface ReadOptions {
  /** Cap of `text` in UTF-8 bytes. */
  readonly maxTextBytes: number;
  /** Skip decoding large attachment bodies (mime/elide-bodies.ts); default true. Same result either way. */
  readonly elideAttachments?: boolean;
}

/** Limits passed to postal-mime; beyond them it rejects and the header-only fallback runs. */
const PARSER_LIMITS = { maxNestingDepth: 64, maxHeadersSize: 2 * 1024 * 1024, maxRfc822NestingDepth: 4 } as const;
/** The fallback reads at most this much of the top-level header section. */
const FALLBACK_HEADER_BYTES = 1024 * 1024;

export async function readMessage(raw: Buffer, options: ReadOptions): Promise<MessageFields> {
  const elided = options.elideAttachments === false ? null : elideAttachmentBodies(raw);
  if (elided) {
    try {
      const email = await PostalMime.parse(elided.reduced, { ...PARSER_LIMITS, attachmentEncoding: 'arraybuffer' });
      const sizes = sizesOfElided(email.attachments, elided.elided);
      if (sizes) return { ...fieldsOf(email, options, sizes), headers: headerBlock(raw) };
    } catch {
      // The full parse below decides, with its own fallback.
    }
  }
  let email: Email;
  try {
    email = await PostalMime.parse(raw, { ...PARSER_LIMITS, attachmentEncoding: 'arraybuffer' });
  } catch {
    try {
      const { headerEnd } = findHeaderSection(raw, 0, raw.length);
      const head = raw.subarray(0, Math.min(headerEnd, FALLBACK_HEADER_BYTES));
      email = await PostalMime.parse(Buffer.concat([head, Buffer.from('\r\n\r\n')]), PARSER_LIMITS);
    } catch {
      email = { headers: [], headerLines: [], attachments: [] };
    }
    email = { ...email, text: undefined, html: undefined, attachments: [] };
  }
  return { ...fieldsOf(email, options), headers: headerBlock(raw) };
}

/**
 * The top-level header section as IMAP SEARCH reads it (RFC 9051 §6.4.4 HEADER/TEXT): one
 * `name: value` line per field, in order, the name lowercase, the value unfolded (RFC 5322
 * §2.2.3), RFC 2047 encoded-words decoded, line breaks inside a value turned into spaces. An
 * address field whose parsed, re-written form (`addressListText`: comments dropped, groups
 * kept) differs from its text gets that form appended after a tab, so SEARCH FROM
 * "user@domain" finds `<user (c)@ (c) domain>` as Dovecot does. At most
 * `FALLBACK_HEADER_BYTES` of the section are read. Never throws.
 */
export function headerBlock(raw: Buffer): string {
  const { headerEnd } = findHeaderSection(raw, 0, raw.length);
  const fields = parseHeaderFields(raw, 0, Math.min(headerEnd, FALLBACK_HEADER_BYTES));
  return fields.map((f) => `${f.name}: ${headerValue(f.name, f.value)}`).join('\n');
}

/** Fields SEARCH reads as address lists (RFC 9051 §6.4.4 FROM, TO, CC, BCC). */
const ADDRESS_FIELDS = new Set(['from', 'to', 'cc', 'bcc']);

function headerValue(name: string, value: string): string {
  const text = decodeHeaderValue(value);
  if (!ADDRESS_FIELDS.has(name)) return text;
  const rewritten = addressListText(value.replace(/[\r\n]+/g, ' '), decodeHeaderValue);
  return rewritten === '' || rewritten === text ? text : `${text}\t${rewritten}`;
}

function decodeHeaderValue(value: string): string {
  let decoded = value;
  if (value.includes('=?')) {
    try {
      decoded = decodeWords(value);
    } catch {
      decoded = value;
    }
  }
  return decoded.replace(/[\r\n]+/g, ' ');
}

/** `sizes[i]`, when not null, is the size of attachment i (whose content was a marker). */
function fieldsOf(email: Email, options: ReadOptions, sizes: readonly (number | null)[] = []): Omit<MessageFields, 'headers'> {
  const references = messageIds(email.references);
  return {
    messageId: messageIds(email.messageId)[0] ?? null,
    inReplyTo: messageIds(email.inReplyTo)[0] ?? null,
    references,
    subject: email.subject ?? '',
    from: addresses(email.from),
    to: addresses(email.to),
    cc: addresses(email.cc),
    date: dateOf(email.date),
    text: bodyText(email, options.maxTextBytes),
    attachments: email.attachments.map((a, i) => ({
      filename: a.filename,
      contentType: a.mimeType,
      size: sizes[i] ?? (typeof a.content === 'string' ? Buffer.byteLength(a.content) : a.content.byteLength),
    })),
  };
}

/**
 * RFC 5322 §3.6.4 msg-ids, angle brackets kept. A header without brackets (seen in the wild)
 * counts as one id per whitespace-separated word, bracketed so threading compares like with like.
 */
export function messageIds(value: string | undefined): string[] {
  if (!value) return [];
  const bracketed = value.match(/<[^<>\s]+>/g);
  if (bracketed) return bracketed;
  return value
    .split(/\s+/)
    .filter((w) => w.length > 0 && w.includes('@'))
    .map((w) => `<${w}>`);
}

/** Groups flattened (RFC 5322 §3.4 group members count as recipients). */
function addresses(value: PostalAddress | PostalAddress[] | undefined): AddressRecord[] {
  const out: AddressRecord[] = [];
  for (const a of Array.isArray(value) ? value : value ? [value] : []) {
    for (const m of a.group ?? [a]) {
      let address = m.address ?? '';
      // RFC 2047 §5 forbids encoded-words in an addr-spec, but some senders encode an
      // internationalized local part that way; read it as they meant it (as mailparser does).
      if (address.includes('=?')) address = decodeWords(address);
      out.push({ name: m.name ?? '', address });
    }
  }
  return out;
}

function dateOf(value: string | undefined): number | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

function bodyText(email: Email, maxBytes: number): string {
  if (email.text) return capUtf8(email.text, maxBytes);
  if (!email.html) return '';
  // Converting is linear but not cheap: a few times the cap of HTML is plenty of text.
  const html = email.html.length > maxBytes * 4 ? email.html.slice(0, maxBytes * 4) : email.html;
  return capUtf8(convert(html, HTML_TO_TEXT).replace(/\u00a0/g, ' '), maxBytes);
}

/** Text for the index: no wrapping, no images, headings and table headers in their own case. */
const HTML_TO_TEXT = {
  wordwrap: false as const,
  selectors: [
    { selector: 'img', format: 'skip' },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
};

/** At most `maxBytes` of UTF-8, cut on a character boundary. */
export function capUtf8(text: string, maxBytes: number): string {
  if (text.length <= maxBytes / 3) return text;
  const bytes = Buffer.from(text.length > maxBytes ? text.slice(0, maxBytes) : text, 'utf8');
  if (bytes.length <= maxBytes && text.length <= maxBytes) return text;
  let end = Math.min(maxBytes, bytes.length);
  while (end > 0 && end < bytes.length && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.toString('utf8', 0, end);
}
