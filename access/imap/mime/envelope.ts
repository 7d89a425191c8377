/**
 * ENVELOPE (RFC 9051 §7.5.2): the header fields as they appear — RFC 2047 words are left for
 * the client to decode, UTF-8 (RFC 6532) is passed as is. Reads only the header block.
 */
import type { ImapValue } from '../wire/data.ts';
import { parseAddressList } from './address.ts';
import type { Address } from './address.ts';
import { isUtf8 } from 'node:buffer';
import { fieldValue, scanHeaderFields } from './headers.ts';
import type { MimePart } from './structure.ts';

const FIELDS = ['date', 'subject', 'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'in-reply-to', 'message-id'] as const;
type Field = (typeof FIELDS)[number];
const WANTED = new Set<string>(FIELDS);

/** RFC 9051 §7.5.2 address: (name adl mailbox host); a group is (NIL NIL name NIL) … (NIL NIL NIL NIL). */
export function addressesValue(addresses: readonly Address[]): ImapValue {
  const out: ImapValue[] = [];
  for (const address of addresses) {
    if (address.kind === 'mailbox') out.push([address.name, address.adl, address.mailbox, address.host]);
    else {
      out.push([null, null, address.name, null]);
      for (const m of address.members) out.push([m.name, m.adl, m.mailbox, m.host]);
      out.push([null, null, null, null]);
    }
  }
  return out.length > 0 ? out : null;
}

/**
 * The ENVELOPE of the message whose header starts the part `part` (the root, or the
 * `message` of a message/rfc822 part); without `part`, of the whole of `raw`.
 */
export function envelope(raw: Buffer, part?: MimePart): ImapValue {
  const start = part ? part.headerStart : 0;
  const end = part ? part.headerEnd : raw.length; // the scan stops at the blank line
  const values = new Map<Field, string>();
  const bytes = new Map<Field, Buffer>();
  scanHeaderFields(raw, start, end, (fieldStart, colon, fieldEnd) => {
    // Only the names we want are decoded: a quick length check first.
    if (colon - fieldStart > 16 || colon - fieldStart < 2) return;
    const name = raw.toString('latin1', fieldStart, colon).trim().toLowerCase();
    if (!WANTED.has(name) || values.has(name as Field)) return;
    values.set(name as Field, fieldValue(raw, colon, fieldEnd));
    // 8-bit bytes that are not UTF-8 (a legacy charset) go out as they are, in a literal.
    const value = raw.subarray(colon + 1, fieldEnd);
    if (!isUtf8(value)) bytes.set(name as Field, Buffer.from(value.toString('latin1').replace(/\r?\n/g, '').trim(), 'latin1'));
  });
  const text = (name: Field): string | Buffer | null => bytes.get(name) ?? values.get(name) ?? null;
  const addresses = (name: Field): ImapValue => {
    const value = values.get(name);
    return value === undefined ? null : addressesValue(parseAddressList(value));
  };
  const from = addresses('from');
  const sender = addresses('sender');
  const replyTo = addresses('reply-to');
  return [
    text('date'),
    text('subject'),
    from,
    sender ?? from, // RFC 9051 §7.5.2: sender and reply-to default to from
    replyTo ?? from,
    addresses('to'),
    addresses('cc'),
    addresses('bcc'),
    text('in-reply-to'),
    text('message-id'),
  ];
}
