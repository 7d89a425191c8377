/**
 * The `prepare` stage: MailOutbound → MailOutbound. Makes the submitted message fit to leave:
 *
 * - Message-ID, Date and MIME-Version where missing (RFC 5322 §3.6, RFC 2045 §4); the Message-ID
 *   is derived from the ingress id, so every domain's copy and a replay carry the same one;
 * - a DKIM signature (RFC 6376; rsa-sha256, relaxed/relaxed, `outbound/dkim-sign.ts`) with the key
 *   of the sender's domain (d= the MAIL FROM domain, which submission made the From: domain).
 *   A local domain without a key gets one here, the first time it sends (logged, with the DNS
 *   record to publish; `sluice domain dkim NAME` prints it again).
 *
 * The signature travels on the record (`addedHeaders`, put on top of the blob's bytes when the
 * message is scanned and sent: `outgoing-bytes.ts`), so a message that had every field is not
 * written again; one that lacked some is a new blob, and the record points at it. Idempotent: a
 * replay signs again (and may write another blob), and only the committed record is used.
 */
import { z } from 'zod';
import type { ProcessorDefinition } from './processor.ts';
import type { MailOutbound } from '../schemas/types.ts';
import { dkimRecordName, dkimRecordText } from '../connectors/dkim/keys.ts';
import { domainOf } from '../ingress/submission-route.ts';
import { addMissingFields } from './outbound/message-fields.ts';
import { dkimSignature } from './outbound/dkim-sign.ts';

const configSchema = z.object({
  /** RFC 6376 §3.4: header/body canonicalization. */
  canonicalization: z.enum(['relaxed/relaxed', 'relaxed/simple', 'simple/simple', 'simple/relaxed']).default('relaxed/relaxed'),
});
export type PrepareConfig = z.output<typeof configSchema>;

export const prepareProcessor: ProcessorDefinition<PrepareConfig, MailOutbound, MailOutbound> = {
  name: 'prepare',
  spec: {
    description: 'Adds Message-ID, Date, MIME-Version where missing and signs with the sender domain\'s DKIM key.',
    input: 'MailOutbound',
    output: 'MailOutbound',
    config: configSchema,
  },
  create(config, resources) {
    const outbound = resources.outbound;
    if (!outbound) throw new Error('prepare stage: no outbound resources (the composition root builds them)');
    const { blobs, logger } = resources;
    return {
      async process(record) {
        const mail = record.value;
        const raw = await blobs.get(mail.rawBlob);
        const { message, added } = addMissingFields(raw, { messageId: `<${mail.ingressId}@${outbound.policy.hostname}>`, date: mail.submittedAt });
        const signingDomain = domainOf(mail.mailFrom);
        const { key, created } = await outbound.dkim.ensure(signingDomain);
        if (created) {
          logger.warn({ domain: signingDomain, name: dkimRecordName(key), txt: dkimRecordText(key) }, 'prepare: made a DKIM key for a domain that had none; publish this TXT record');
        }
        // The key store keeps the parsed key (KeyObject): nothing is imported per message.
        const signature = await dkimSignature(message, { domain: key.domain, selector: key.selector, key: key.privateKey, canonicalization: config.canonicalization, time: resources.now() });
        // RFC 6376 §5.6: the DKIM-Signature field is prepended to the header — on the record.
        const rawBlob = added.length > 0 ? await blobs.put(message) : mail.rawBlob;
        const addedHeaders = signature + mail.addedHeaders;
        return [{ key: record.key, value: { ...mail, rawBlob, addedHeaders, size: Buffer.byteLength(addedHeaders, 'latin1') + message.length } }];
      },
    };
  },
};
