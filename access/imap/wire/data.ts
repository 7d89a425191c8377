/**
 * IMAP response data as values (RFC 9051 §4): `null` is NIL, a number is a number, a string or
 * Buffer is an IMAP string (quoted when it can be, a literal otherwise), `{ atom }` goes out as
 * is (flags, keywords, `BODY[1]` names), an array is a parenthesized list. `encode.ts` turns
 * these into bytes; `mime/` builds ENVELOPE and BODYSTRUCTURE as these.
 */
export type ImapValue = null | number | string | Buffer | { readonly atom: string } | readonly ImapValue[];

export function atom(text: string): { readonly atom: string } {
  return { atom: text };
}
