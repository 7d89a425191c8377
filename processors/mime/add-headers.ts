/**
 * Header fields a stage adds to the message as stored (Authentication-Results, the virus-scan
 * note …): prepended at the top (RFC 8601 §5: Authentication-Results goes above the fields it
 * covers; RFC 5322 §3.6 allows trace-like fields first). The new bytes are a new content-addressed
 * blob, so a replay writes the same blob and gives the same record.
 */
import type { BlobStore } from '../../connectors/blob/blob.ts';
import type { ParsedMail } from '../../schemas/types.ts';

/** Folds nothing: callers give complete `Name: value` fields, possibly folded with CRLF + WSP already. */
export async function addHeaders(blobs: BlobStore, mail: ParsedMail, fields: readonly string[], raw?: Buffer): Promise<ParsedMail> {
  if (fields.length === 0) return mail;
  const block = fields.map((f) => f.replace(/\r?\n(?![ \t])/g, '\r\n ').replace(/\r?\n/g, '\r\n') + '\r\n').join('');
  const bytes = Buffer.concat([Buffer.from(block, 'utf8'), raw ?? (await blobs.get(mail.received.rawBlob))]);
  const rawBlob = await blobs.put(bytes);
  return { ...mail, received: { ...mail.received, rawBlob, size: bytes.length }, headers: block + mail.headers };
}
