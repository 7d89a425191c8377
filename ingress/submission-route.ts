/**
 * Routing of a submitted message (DESIGN.md §2, sending flow): what the submission listener puts
 * on the log, as one atomic produce, before it answers 250.
 *
 * - the sender's copy in their "Sent" mailbox, already `\Seen` — a `mail.received` record, so it
 *   takes the receiving flow like IMAP APPEND does;
 * - one `mail.received` record (INBOX) per local recipient, the sender included when they wrote
 *   to themselves: local mail never enters the outgoing queue;
 * - one `mail.outbound` record per remote domain, keyed by the domain, with that domain's
 *   recipients (RFC 5321 §5.1: delivery is per destination domain).
 *
 * Ids are deterministic (DESIGN.md §1.3): the Sent copy has the ingress id `<id>.sent` so that
 * its message key never collides with the sender's own INBOX copy (`<id>:<recipient>`), and the
 * outbound id is `<id>:<domain>`.
 */
import type { MailOutbound, MailReceived } from '../schemas/types.ts';

export const SENT_MAILBOX = 'Sent';
/** RFC 9051 §2.3.2: the message has been read. */
export const SEEN_FLAG = '\\Seen';

export interface SubmittedMessage {
  readonly ingressId: string;
  /** The authenticated user's id (lowercase address). */
  readonly userId: string;
  /** Envelope MAIL FROM. */
  readonly mailFrom: string;
  readonly remoteAddress: string;
  readonly helo: string;
  readonly receivedAt: number;
  readonly rawBlob: string;
  readonly size: number;
  /** Local recipients: user id → the envelope address as given. */
  readonly local: ReadonlyMap<string, string>;
  /** Remote envelope recipients, as given. */
  readonly remote: readonly string[];
}

export interface Routed {
  readonly received: MailReceived[];
  readonly outbound: MailOutbound[];
}

/** The domain of an address, lowercase (RFC 5321 §2.4: domains are case-insensitive). */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

export function routeSubmission(m: SubmittedMessage): Routed {
  const base = {
    mailFrom: m.mailFrom,
    source: 'submission',
    remoteAddress: m.remoteAddress,
    helo: m.helo,
    receivedAt: m.receivedAt,
    rawBlob: m.rawBlob,
    size: m.size,
  };
  const received: MailReceived[] = [
    { ...base, ingressId: `${m.ingressId}.sent`, userId: m.userId, recipient: m.mailFrom, mailbox: SENT_MAILBOX, flags: [SEEN_FLAG] },
  ];
  for (const [userId, recipient] of m.local) {
    received.push({ ...base, ingressId: m.ingressId, userId, recipient, mailbox: 'INBOX', flags: [] });
  }
  const byDomain = new Map<string, string[]>();
  for (const recipient of m.remote) {
    const domain = domainOf(recipient);
    const list = byDomain.get(domain) ?? [];
    // RFC 5321 §4.1.1.3: duplicate recipients are sent once.
    if (!list.some((r) => r.toLowerCase() === recipient.toLowerCase())) list.push(recipient);
    byDomain.set(domain, list);
  }
  const outbound: MailOutbound[] = [...byDomain].map(([domain, recipients]) => ({
    outboundId: `${m.ingressId}:${domain}`,
    ingressId: m.ingressId,
    userId: m.userId,
    mailFrom: m.mailFrom,
    domain,
    recipients,
    submittedAt: m.receivedAt,
    rawBlob: m.rawBlob,
    size: m.size,
    attempt: 0,
    notBefore: 0,
    delayNotified: false,
    lastResponses: {},
    scanned: '',
    addedHeaders: '',
  }));
  return { received, outbound };
}
