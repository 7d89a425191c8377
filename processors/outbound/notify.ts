/**
 * A DSN for the sender of a queued message, as a `mail.received` record for the sender's INBOX:
 * it takes the receiving flow like any delivery (source `dsn`, so spam and virus checks leave
 * it alone), with the null reverse-path (RFC 5321 §4.5.5). Its ingress id is derived from the
 * queued message, the attempt and the kind, so a replay stores it once.
 */
import type { BlobStore } from '../../connectors/blob/blob.ts';
import type { MailOutbound, MailReceived } from '../../schemas/types.ts';
import { buildDsn, type DsnAction, type DsnRecipient } from './dsn.ts';
import { splitHeader } from './message-fields.ts';
import { readOutgoing } from './outgoing-bytes.ts';

export interface DsnRequest {
  readonly mail: MailOutbound;
  readonly action: DsnAction;
  readonly recipients: readonly DsnRecipient[];
  /** Distinguishes the DSNs of one message (e.g. `failed-2`, `delayed-3`, `blocked`). */
  readonly tag: string;
  readonly hostname: string;
  readonly now: number;
  readonly willRetryUntil?: number;
  readonly reason?: string;
}

export async function dsnRecord(blobs: BlobStore, r: DsnRequest): Promise<MailReceived> {
  const original = await readOutgoing(blobs, r.mail);
  const raw = buildDsn({
    action: r.action,
    reportingMta: r.hostname,
    to: r.mail.mailFrom,
    queueId: r.mail.outboundId,
    arrivalDate: r.mail.submittedAt,
    now: r.now,
    willRetryUntil: r.willRetryUntil,
    recipients: r.recipients,
    originalHeader: splitHeader(original).header,
    reason: r.reason,
  });
  const rawBlob = await blobs.put(raw);
  return {
    ingressId: `${r.mail.outboundId}.dsn-${r.tag}`,
    userId: r.mail.userId,
    recipient: r.mail.mailFrom,
    mailFrom: '',
    source: 'dsn',
    remoteAddress: '',
    helo: '',
    receivedAt: r.now,
    rawBlob,
    size: raw.length,
    mailbox: 'INBOX',
    flags: [],
  };
}
