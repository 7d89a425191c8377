/**
 * The `virus` stage: ParsedMail → ParsedMail. Scans the raw message and, apart, every attachment
 * postal-mime extracts (decoded), with clamd (`scan.clamd`). Mail from SMTP only: what a user
 * appends over IMAP or imports is their own and is stored byte-exact (RFC 9051 §6.3.12).
 *
 * - Infected: the record goes to the quarantine (kept, never in a mailbox; `sluice quarantine`)
 *   and nothing goes on. Idempotent by message key, so a replay changes nothing.
 * - Clean: an `X-Sluice-Virus-Scan: clean (…)` field is added and the record goes on.
 * - clamd not configured: `X-Sluice-Virus-Scan: not scanned (…)` — never a silent pass (the
 *   server also warns at start-up and shows `sluice_scan_configured{scanner="clamd"} 0`).
 * - clamd unreachable: `RetryableError` — the mail waits in the log, nothing goes on unscanned.
 */
import PostalMime from 'postal-mime';
import { z } from 'zod';
import { RetryableError, type ProcessorDefinition } from './processor.ts';
import type { ParsedMail } from '../schemas/types.ts';
import { ScannerUnavailableError, type VirusScanner, type VirusVerdict } from '../connectors/scan/scanner.ts';
import { addHeaders } from './mime/add-headers.ts';

const configSchema = z.object({
  /** Topic a `quarantine release` appends the record to: this stage's output. */
  releaseTo: z.string().default('mail.scanned'),
});

export type VirusConfig = z.output<typeof configSchema>;

export const VIRUS_SCAN_HEADER = 'X-Sluice-Virus-Scan';

/** The raw message and each decoded attachment, scanned at once; the names of what matched. */
export async function scanAll(scanner: VirusScanner, raw: Buffer): Promise<VirusVerdict> {
  const pieces: Buffer[] = [raw];
  try {
    const email = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer', maxNestingDepth: 64, maxRfc822NestingDepth: 4 });
    for (const a of email.attachments) pieces.push(Buffer.from(a.content as ArrayBuffer));
  } catch {
    // Unparseable MIME: clamd still sees the whole raw message and decodes what it can.
  }
  const verdicts = await Promise.all(pieces.map((p) => scanner.scan(p)));
  const viruses = [...new Set(verdicts.flatMap((v) => v.viruses))];
  return { infected: verdicts.some((v) => v.infected), viruses };
}

export const virusProcessor: ProcessorDefinition<VirusConfig, ParsedMail, ParsedMail> = {
  name: 'virus',
  spec: {
    description: 'Scans the message and each attachment with clamd; infected mail is quarantined, clean mail marked scanned.',
    input: 'ParsedMail',
    output: 'ParsedMail',
    config: configSchema,
  },
  create(config, resources) {
    const scan = resources.scan;
    if (!scan) throw new Error('virus stage: no scan resources (the composition root builds them from scan.clamd)');
    const { blobs, logger } = resources;
    return {
      async process(record) {
        const mail = record.value;
        if (mail.received.source !== 'smtp') return [{ key: record.key, value: mail }];
        const scanner = scan.virus;
        if (!scanner) {
          const out = await addHeaders(blobs, mail, [`${VIRUS_SCAN_HEADER}: not scanned (no virus scanner configured: scan.clamd)`]);
          return [{ key: record.key, value: out }];
        }
        if (!scan.quarantine) throw new Error('virus stage: a virus scanner without a quarantine');
        const raw = await blobs.get(mail.received.rawBlob);
        let verdict: VirusVerdict;
        try {
          verdict = await scanAll(scanner, raw);
        } catch (err) {
          if (err instanceof ScannerUnavailableError) throw new RetryableError(err.message, { cause: err });
          throw err;
        }
        const messageKey = `${mail.received.ingressId}:${mail.received.recipient.toLowerCase()}`;
        if (verdict.infected) {
          await scan.quarantine.put({
            messageKey,
            userId: mail.received.userId,
            quarantinedAt: resources.now(),
            viruses: verdict.viruses,
            record: mail,
            releaseTopic: config.releaseTo,
          });
          logger.warn({ messageKey, viruses: verdict.viruses }, 'virus: infected message quarantined');
          return [];
        }
        const out = await addHeaders(blobs, mail, [`${VIRUS_SCAN_HEADER}: clean (${scanner.name})`], raw);
        return [{ key: record.key, value: out }];
      },
    };
  },
};
