/**
 * The bytes of a queued message as it leaves: the header fields `prepare` added
 * (`MailOutbound.addedHeaders`: the DKIM-Signature, RFC 6376 §5.6 — prepended) on top of the
 * blob's bytes. They travel on the record so that signing writes no second copy of the message
 * (one blob write and one fsync fewer per message; on S3 one PUT fewer).
 */
import type { BlobStore } from '../../connectors/blob/blob.ts';
import type { MailOutbound } from '../../schemas/types.ts';

export function outgoingBytes(mail: MailOutbound, raw: Buffer): Buffer {
  return mail.addedHeaders === '' ? raw : Buffer.concat([Buffer.from(mail.addedHeaders, 'latin1'), raw]);
}

/** Reads the blob and puts the added fields on top. */
export async function readOutgoing(blobs: BlobStore, mail: MailOutbound): Promise<Buffer> {
  return outgoingBytes(mail, await blobs.get(mail.rawBlob));
}
