/**
 * Delivery Status Notifications (RFC 3464) for the sender of a queued message: a
 * `multipart/report; report-type=delivery-status` (RFC 6522) with a human-readable part, the
 * `message/delivery-status` part (per-message and per-recipient fields) and the original
 * message's header section as `text/rfc822-headers` (RFC 6522 §4: headers only, never the
 * body — which keeps an infected attachment out of it too).
 */
import { rfc5322Date } from './message-fields.ts';

export type DsnAction = 'failed' | 'delayed';

export interface DsnRecipient {
  readonly recipient: string;
  /** RFC 3464 §2.3.4 Status (RFC 3463 class.subject.detail), e.g. 5.1.1. */
  readonly status: string;
  /** The remote reply or our own diagnosis. */
  readonly diagnostic: string;
  /** RFC 3464 §2.3.5 Remote-MTA, when one answered. */
  readonly remoteMta?: string;
  /** Diagnostic-Code type: `smtp` for a remote reply, `x-sluice` for our own finding. */
  readonly diagnosticType?: 'smtp' | 'x-sluice';
}

export interface DsnInput {
  readonly action: DsnAction;
  /** Reporting MTA, our hostname. */
  readonly reportingMta: string;
  /** The sender (To: of the DSN). */
  readonly to: string;
  /** Envelope id of the queued message, for the Message-ID and X-Sluice-Queue-Id. */
  readonly queueId: string;
  readonly arrivalDate: number;
  readonly now: number;
  /** For `delayed`: until when it is tried (RFC 3464 §2.3.9 Will-Retry-Until). */
  readonly willRetryUntil?: number;
  readonly recipients: readonly DsnRecipient[];
  /** The original message's header section (without the blank line). */
  readonly originalHeader: Buffer;
  /** Why, in one sentence, for the human part (e.g. a virus name). */
  readonly reason?: string;
}

/** `4.4.7` from `451 4.4.7 …`, else the class from the code (RFC 3463 §3.1: X.0.0). */
export function statusFromReply(code: number, response: string, fallback: string): string {
  const m = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(response) ?? /^([245]\.\d{1,3}\.\d{1,3})\b/.exec(response);
  if (m) return m[1];
  if (code >= 500) return '5.0.0';
  if (code >= 400) return '4.0.0';
  return fallback;
}

/** Field values are one line (RFC 3464 §2.1.1 allows folding; we keep it simple). */
function clean(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim().slice(0, 900);
}

export function buildDsn(d: DsnInput): Buffer {
  const boundary = `=_sluice-dsn-${d.queueId.replace(/[^A-Za-z0-9]/g, '')}-${d.action}-${d.now}`;
  const failed = d.action === 'failed';
  const subject = failed ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)';
  const list = d.recipients.map((r) => `  <${r.recipient}>: ${clean(r.diagnostic)}`).join('\r\n');
  const human = failed
    ? `This is the mail system at ${d.reportingMta}.\r\n\r\nYour message could not be delivered to the recipients below${d.reason ? ` (${clean(d.reason)})` : ''}. It will not be tried again.\r\n\r\n${list}\r\n`
    : `This is the mail system at ${d.reportingMta}.\r\n\r\nYour message has not been delivered yet to the recipients below. It is still being retried${d.willRetryUntil ? ` until ${rfc5322Date(d.willRetryUntil)}` : ''}; you need not send it again.\r\n\r\n${list}\r\n`;
  // RFC 3464 §2.2: per-message fields.
  const perMessage = [`Reporting-MTA: dns; ${d.reportingMta}`, `X-Sluice-Queue-Id: ${clean(d.queueId)}`, `Arrival-Date: ${rfc5322Date(d.arrivalDate)}`];
  // RFC 3464 §2.3: per-recipient fields, one block each, separated by blank lines.
  const perRecipient = d.recipients.map((r) =>
    [
      `Final-Recipient: rfc822; ${r.recipient}`,
      `Action: ${d.action}`,
      `Status: ${r.status}`,
      ...(r.remoteMta ? [`Remote-MTA: dns; ${r.remoteMta}`] : []),
      `Diagnostic-Code: ${r.diagnosticType ?? 'smtp'}; ${clean(r.diagnostic)}`,
      `Last-Attempt-Date: ${rfc5322Date(d.now)}`,
      ...(d.action === 'delayed' && d.willRetryUntil ? [`Will-Retry-Until: ${rfc5322Date(d.willRetryUntil)}`] : []),
    ].join('\r\n'),
  );
  const header = [
    `From: Mail Delivery System <MAILER-DAEMON@${d.reportingMta}>`,
    `To: <${d.to}>`,
    `Subject: ${subject}`,
    `Date: ${rfc5322Date(d.now)}`,
    `Message-ID: <${d.queueId.replace(/[^A-Za-z0-9.-]/g, '.')}.${d.action}.${d.now}@${d.reportingMta}>`,
    // RFC 3834 §5: an automatic response; never answered automatically.
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
  ].join('\r\n');
  const original = d.originalHeader.toString('latin1').replace(/(\r\n)+$/, '');
  const body = [
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    human,
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    perMessage.join('\r\n'),
    '',
    perRecipient.join('\r\n\r\n'),
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    original,
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n');
  return Buffer.from(`${header}\r\n\r\n${body}`, 'latin1');
}
