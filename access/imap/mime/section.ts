/**
 * BODY[<section>]<<partial>> bytes (RFC 9051 §6.4.5): the whole message, HEADER,
 * HEADER.FIELDS (NOT), TEXT, MIME and part numbers, as the original bytes of the message.
 */
import type { Partial, Section } from '../command.ts';
import { parseHeaderBlock } from './headers.ts';
import type { MimePart } from './structure.ts';

const CRLF = Buffer.from('\r\n');

function isMessage(part: MimePart): boolean {
  return part.type === 'message' && (part.subtype === 'rfc822' || part.subtype === 'global');
}

/**
 * The part numbered `path` (RFC 9051 §6.4.5): the parts of a multipart are numbered from 1;
 * a message whose body is not multipart has one part, 1, its body; the parts of a
 * message/rfc822 part are those of its encapsulated message. Null when there is no such part.
 */
export function findPart(root: MimePart, path: readonly number[]): MimePart | null {
  let current = root;
  let atMessage = true; // `current` stands for a message (its header and its body)
  for (const n of path) {
    let parts: readonly MimePart[];
    if (current.type === 'multipart') parts = current.children;
    else if (atMessage) parts = [current];
    else if (isMessage(current) && current.message) {
      const inner = current.message;
      parts = inner.type === 'multipart' ? inner.children : [inner];
    } else return null;
    const next = parts[n - 1];
    if (!Number.isInteger(n) || n < 1 || !next) return null;
    current = next;
    atMessage = false;
  }
  return current;
}

function endsWithBlankLine(raw: Buffer, message: MimePart): boolean {
  const { headerStart: start, headerEnd: end } = message;
  if (end - start < 1 || raw[end - 1] !== 0x0a) return false;
  const before = end - 2 >= start && raw[end - 2] === 0x0d ? end - 3 : end - 2;
  return before < start || raw[before] === 0x0a;
}

/** The fields named (or, with `not`, not named) in `names`, original bytes, then a blank line. */
function headerFields(raw: Buffer, message: MimePart, names: readonly string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const chunks: Buffer[] = [];
  for (const field of parseHeaderBlock(raw, message.headerStart, message.headerEnd)) {
    if (wanted.has(field.name.toLowerCase()) === not) continue;
    chunks.push(field.raw);
    if (field.raw[field.raw.length - 1] !== 0x0a) chunks.push(CRLF);
  }
  // The blank line is included, except for a message with no body and no blank line.
  if (message.headerEnd < message.bodyEnd || endsWithBlankLine(raw, message)) chunks.push(CRLF);
  return Buffer.concat(chunks);
}

/** The bytes of `section`, or null when the part does not exist (the server then sends ""). */
export function sectionBytes(raw: Buffer, root: MimePart, section: Section): Buffer | null {
  if (section.part.length === 0 && section.text === null) return raw;
  const target = findPart(root, section.part);
  if (!target) return null;
  switch (section.text) {
    case null:
      return raw.subarray(target.bodyStart, target.bodyEnd);
    case 'MIME':
      // The MIME header of a part; not defined for the message itself.
      return section.part.length > 0 ? raw.subarray(target.headerStart, target.headerEnd) : null;
    default: {
      // HEADER*/TEXT apply to a message: the top level, or a message/rfc822 part's message.
      const message = section.part.length === 0 ? target : isMessage(target) ? target.message : null;
      if (!message) return null;
      if (section.text === 'HEADER') return raw.subarray(message.headerStart, message.headerEnd);
      if (section.text === 'TEXT') return raw.subarray(message.bodyStart, message.bodyEnd);
      return headerFields(raw, message, section.fields, section.text === 'HEADER.FIELDS.NOT');
    }
  }
}

/** `<origin.octets>` (RFC 9051 §6.4.5): an origin past the end gives an empty string. */
export function applyPartial(bytes: Buffer, partial: Partial | null): Buffer {
  if (!partial) return bytes;
  if (partial.offset >= bytes.length) return Buffer.alloc(0);
  return bytes.subarray(partial.offset, partial.offset + partial.length);
}
