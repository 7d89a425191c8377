/**
 * The outbound `scan` stage: MailOutbound → MailOutbound, the spam and virus checks of outgoing
 * mail with the scanners of the receiving flow (connectors/scan). We do not send viruses, nor
 * what rspamd would reject:
 *
 * - Virus (clamd, `scan.clamd`): the message and each attachment. Infected: not sent; the sender
 *   gets a failure DSN (Status 5.7.1, the signature names; the DSN carries only the headers),
 *   each recipient's result is `blocked`.
 * - Spam (rspamd, `scan.rspamd`, with the authenticated user so that its outbound rules apply):
 *   action `reject` blocks the message the same way (a compromised account must not spoil the
 *   server's reputation, and the sender is our own user, so the DSN is no backscatter); lower
 *   actions are logged and the mail goes out unchanged. The built-in checks of the receiving
 *   flow (SPF, DMARC, Bayes) judge other people's mail and are not applied here.
 * - No clamd configured: the mail goes out, `scanned` says "not scanned", a warning is logged for
 *   each message, and the server warned at start-up (`sluice_scan_configured{scanner="clamd"} 0`).
 * - A scanner down: `RetryableError` — the mail waits in the log, nothing leaves unscanned.
 *
 * No header is added: the message is DKIM-signed already, and the scan is our business.
 */
import { z } from 'zod';
import { RetryableError, type OutputRecord, type ProcessorDefinition } from './processor.ts';
import type { DeliveryResult, MailOutbound, MailReceived } from '../schemas/types.ts';
import { ScannerUnavailableError, type SpamVerdict, type VirusVerdict } from '../connectors/scan/scanner.ts';
import { scanAll } from './virus.ts';
import { dsnRecord } from './outbound/notify.ts';
import { readOutgoing } from './outbound/outgoing-bytes.ts';

const configSchema = z.object({
  dsnTopic: z.string().default('mail.received'),
  resultsTopic: z.string().default('mail.outbound.results'),
});
export type OutboundScanConfig = z.output<typeof configSchema>;

type Output = OutputRecord<MailOutbound | MailReceived | DeliveryResult>;

async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ScannerUnavailableError) throw new RetryableError(err.message, { cause: err });
    throw err;
  }
}

export const outboundScanProcessor: ProcessorDefinition<OutboundScanConfig, MailOutbound, MailOutbound | MailReceived | DeliveryResult> = {
  name: 'outbound-scan',
  spec: {
    description: 'Virus (clamd) and spam (rspamd) checks of outgoing mail: infected or rejected mail is not sent, the sender gets a DSN.',
    input: 'MailOutbound',
    output: 'MailOutbound',
    extraOutputs: ['MailReceived', 'DeliveryResult'],
    config: configSchema,
  },
  create(config, resources) {
    const scan = resources.scan;
    if (!scan) throw new Error('outbound scan stage: no scan resources (the composition root builds them)');
    const hostname = resources.outbound?.policy.hostname ?? scan.hostname;
    const { blobs, logger } = resources;
    return {
      async process(record) {
        const mail = record.value;
        // Read only when a scanner will look at it (no scanner configured: nothing to read).
        const raw = scan.virus || scan.spam ? await readOutgoing(blobs, mail) : Buffer.alloc(0);
        const notes: string[] = [];
        let virus: VirusVerdict | null = null;
        if (scan.virus) {
          const scanner = scan.virus;
          virus = await guarded(() => scanAll(scanner, raw));
          notes.push(virus.infected ? `infected (${virus.viruses.join(', ')})` : `clean (${scanner.name})`);
        } else {
          notes.push('not scanned (no virus scanner configured: scan.clamd)');
          logger.warn({ outboundId: mail.outboundId }, 'outbound scan: NO VIRUS SCANNING, mail sent unscanned (scan.clamd not set)');
        }
        let spam: SpamVerdict | null = null;
        if (!virus?.infected && scan.spam) {
          const scanner = scan.spam;
          spam = await guarded(() => scanner.check(raw, { remoteAddress: '127.0.0.1', helo: hostname, mailFrom: mail.mailFrom, recipient: mail.recipients[0] ?? '', queueId: mail.outboundId, user: mail.userId }));
          notes.push(`spam ${spam.action} score=${spam.score}`);
        }
        const reason = virus?.infected ? `it contains a virus: ${virus.viruses.join(', ')}` : spam?.action === 'reject' ? `it was judged spam (score ${spam.score})` : null;
        if (!reason) return [{ key: record.key, value: { ...mail, scanned: notes.join('; ') } }];

        const now = resources.now();
        const response = `5.7.1 not sent: ${reason}`;
        logger.warn({ outboundId: mail.outboundId, user: mail.userId, reason }, 'outbound scan: message blocked, not sent');
        const dsn = await dsnRecord(blobs, {
          mail,
          action: 'failed',
          recipients: mail.recipients.map((recipient) => ({ recipient, status: '5.7.1', diagnostic: response, diagnosticType: 'x-sluice' as const })),
          tag: 'blocked',
          hostname,
          now,
          reason,
        });
        const outputs: Output[] = [{ topic: config.dsnTopic, key: dsn.userId, value: dsn }];
        for (const recipient of mail.recipients) {
          const result: DeliveryResult = {
            outboundId: mail.outboundId, ingressId: mail.ingressId, userId: mail.userId, domain: mail.domain, recipient,
            attempt: 0, status: 'blocked', code: 554, response, host: '', at: now, nextAttemptAt: 0,
          };
          outputs.push({ topic: config.resultsTopic, key: record.key, value: result });
        }
        return outputs;
      },
    };
  },
};
