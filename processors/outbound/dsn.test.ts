/** DSNs as RFC 3464 / RFC 6522 say, read back with a MIME parser nobody here wrote (postal-mime). */
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { buildDsn, statusFromReply } from './dsn.ts';
import { nextAttempt } from './schedule.ts';
import { testPolicy } from './test-outbound.ts';

const ORIGINAL = Buffer.from('From: <alice@sluice.test>\r\nTo: <bob@remote.test>\r\nSubject: hi\r\nMessage-ID: <m1@client.test>\r\n');

describe('buildDsn', () => {
  it('is a multipart/report with a text part, message/delivery-status and the original headers', async () => {
    const raw = buildDsn({
      action: 'failed', reportingMta: 'mx.sluice.test', to: 'alice@sluice.test', queueId: 'ing-1:remote.test', arrivalDate: 0, now: 86_400_000,
      recipients: [
        { recipient: 'bob@remote.test', status: '5.1.1', diagnostic: '550 5.1.1 no such\r\nuser', remoteMta: 'mx.remote.test' },
        { recipient: 'carol@remote.test', status: '4.4.7', diagnostic: 'delivery time expired', diagnosticType: 'x-sluice' },
      ],
      originalHeader: ORIGINAL,
    });
    const text = raw.toString('latin1');
    expect(text).toMatch(/^Content-Type: multipart\/report; report-type=delivery-status; boundary="[^"]+"\r$/m);
    expect(text).toMatch(/^Auto-Submitted: auto-replied\r$/m); // RFC 3834 §5
    const parsed = await PostalMime.parse(raw);
    expect(parsed.subject).toBe('Undelivered Mail Returned to Sender');
    expect(parsed.from?.address).toBe('MAILER-DAEMON@mx.sluice.test');
    expect(parsed.text).toContain('<bob@remote.test>: 550 5.1.1 no such user');
    const status = parsed.attachments.find((a) => a.mimeType === 'message/delivery-status');
    const headers = parsed.attachments.find((a) => a.mimeType === 'text/rfc822-headers');
    expect(Buffer.from(headers!.content as ArrayBuffer).toString()).toContain('Message-ID: <m1@client.test>');
    // (postal-mime hands the part over with LF line ends.)
    const fields = Buffer.from(status!.content as ArrayBuffer).toString().replace(/\r\n/g, '\n');
    // RFC 3464 §2.2 per-message fields, then one block per recipient (§2.3), blank-line separated.
    const [perMessage, ...perRecipient] = fields.trim().split('\n\n');
    expect(perMessage).toBe('Reporting-MTA: dns; mx.sluice.test\nX-Sluice-Queue-Id: ing-1:remote.test\nArrival-Date: Thu, 01 Jan 1970 00:00:00 +0000');
    expect(perRecipient).toEqual([
      'Final-Recipient: rfc822; bob@remote.test\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.remote.test\nDiagnostic-Code: smtp; 550 5.1.1 no such user\nLast-Attempt-Date: Fri, 02 Jan 1970 00:00:00 +0000',
      'Final-Recipient: rfc822; carol@remote.test\nAction: failed\nStatus: 4.4.7\nDiagnostic-Code: x-sluice; delivery time expired\nLast-Attempt-Date: Fri, 02 Jan 1970 00:00:00 +0000',
    ]);
    expect(text).toContain('Status: 5.1.1\r\nRemote-MTA'); // on the wire: CRLF
  });

  it('status from the reply\'s enhanced code, else from its class (RFC 3463)', () => {
    expect(statusFromReply(550, '550 5.1.1 no such user', 'x')).toBe('5.1.1');
    expect(statusFromReply(451, '4.2.0 busy', 'x')).toBe('4.2.0');
    expect(statusFromReply(554, '554 go away', 'x')).toBe('5.0.0');
    expect(statusFromReply(0, 'connection refused', '4.4.1')).toBe('4.4.1');
  });
});

describe('nextAttempt', () => {
  const policy = testPolicy();
  const h = 3_600_000;
  it('follows 1m, 5m, 30m, 2h, 8h, then every 8h, on retry topics 1..5', () => {
    const at = (n: number) => nextAttempt(policy, 5, n, 10 * h, 10 * h - 1, true);
    expect([1, 2, 3, 4, 5, 6, 9].map((n) => [at(n).topic, (at(n).notBefore - 10 * h) / 60_000])).toEqual([[0, 1], [1, 5], [2, 30], [3, 120], [4, 480], [4, 480], [4, 480]]);
  });
  it('is brought forward to the delay warning (not yet sent) and to the expiry, never past them', () => {
    expect(nextAttempt(policy, 5, 5, 3 * h, 0, false).notBefore).toBe(4 * h);
    expect(nextAttempt(policy, 5, 5, 3 * h, 0, true).notBefore).toBe(11 * h);
    expect(nextAttempt(policy, 5, 5, 118 * h, 0, true).notBefore).toBe(120 * h);
  });
});
