/**
 * Header fields a stage adds to the message as stored (Authentication-Results, the virus-scan
 * note …): prepended at the top (RFC 8601 §5: Authentication-Results goes above the fields it
 * covers; RFC 5322 §3.6 allows trace-like fields first). They travel on the record
 * (`ParsedMail.addedHeaders`, newest first) rather than as a rewritten copy of the message, so the
 * bytes are read and written once, by `split-attachments` (`storedBytes`), however many stages add fields.
 */
import type { ParsedMail } from '../../schemas/types.ts';

/** Folds nothing: callers give complete `Name: value` fields, possibly folded with CRLF + WSP already. */
export function addHeaders(mail: ParsedMail, fields: readonly string[]): ParsedMail {
  if (fields.length === 0) return mail;
  const block = fields.map((f) => f.replace(/\r?\n(?![ \t])/g, '\r\n ').replace(/\r?\n/g, '\r\n') + '\r\n').join('');
  return { ...mail, addedHeaders: block + mail.addedHeaders, headers: block + mail.headers };
}

/** The message as it is to be stored: the added header fields on top of the raw bytes. */
export function storedBytes(mail: ParsedMail, raw: Buffer): Buffer {
  return mail.addedHeaders === '' ? raw : Buffer.concat([Buffer.from(mail.addedHeaders, 'utf8'), raw]);
}
