/**
 * BODY and BODYSTRUCTURE (RFC 9051 §7.5.2, grammar §9 body). Where the RFC leaves a choice we
 * answer as Dovecot does: lower-case names, text parts always carry a charset parameter
 * (us-ascii by default, RFC 2045 §5.2), language as a list, a multipart without parts
 * gets one empty text/plain part (the grammar needs at least one), all extension fields present.
 * The parts of a multipart are one pre-encoded atom (see below).
 */
import { atom } from '../wire/data.ts';
import type { ImapValue } from '../wire/data.ts';
import { encodeValue } from '../wire/encode.ts';
import { envelope } from './envelope.ts';
import type { MimePart } from './structure.ts';

const EMPTY_PART: ImapValue = ['text', 'plain', ['charset', 'us-ascii'], null, null, '7BIT', 0, 0];
const EMPTY_PART_EXTENSIBLE: ImapValue = [...EMPTY_PART, null, null, null, null];

function paramsValue(params: Readonly<Record<string, string>>, defaultCharset: boolean): ImapValue {
  const out: string[] = [];
  for (const [name, value] of Object.entries(params)) out.push(name, value);
  if (defaultCharset && !('charset' in params)) out.push('charset', 'us-ascii');
  return out.length > 0 ? out : null;
}

function extensions(part: MimePart): ImapValue[] {
  return [
    part.disposition ? [part.disposition.type, paramsValue(part.disposition.params, false)] : null,
    part.language.length > 0 ? [...part.language] : null,
    part.location,
  ];
}

/**
 * The BODYSTRUCTURE (`extensible`) or BODY of `part`. A message/rfc822 part carries the
 * envelope, structure and line count of its encapsulated message (RFC 9051 §7.5.2); one left
 * opaque by the nesting limits is described as application/octet-stream.
 */
export function bodyStructure(raw: Buffer, part: MimePart, extensible: boolean): ImapValue {
  if (part.type === 'multipart') {
    const bodies = part.children.length > 0 ? part.children.map((child) => bodyStructure(raw, child, extensible)) : [extensible ? EMPTY_PART_EXTENSIBLE : EMPTY_PART];
    // RFC 9051 §9 body-type-mpart = 1*body SP media-subtype: the bodies are not separated by
    // spaces, which a list of values cannot say, so they go out pre-encoded as one atom
    // (non-ASCII strings as literals, valid with or without UTF8=ACCEPT).
    const out: ImapValue[] = [atom(bodies.map((body) => encodeValue(body).toString('utf8')).join('')), part.subtype];
    if (extensible) out.push(paramsValue(part.params, false), ...extensions(part));
    return out;
  }
  const isMessage = part.type === 'message' && (part.subtype === 'rfc822' || part.subtype === 'global');
  const opaque = isMessage && part.message === null;
  const text = part.type === 'text';
  const out: ImapValue[] = [
    opaque ? 'application' : part.type,
    opaque ? 'octet-stream' : part.subtype,
    paramsValue(part.params, text),
    part.id,
    part.description,
    part.encoding,
    part.bodyEnd - part.bodyStart,
  ];
  if (text) out.push(part.lines);
  if (isMessage && part.message) out.push(envelope(raw, part.message), bodyStructure(raw, part.message, extensible), part.lines);
  if (extensible) out.push(part.md5, ...extensions(part));
  return out;
}
