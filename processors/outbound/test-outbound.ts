/**
 * Test support for the sending-flow stages: real outbound resources (the nodemailer SMTP client,
 * DNS asked of a loopback server the test starts, DKIM keys in a temp dir), a policy the test
 * can shorten, and MailOutbound records whose message is in the test's blob store.
 */
import path from 'node:path';
import { NodeDnsResolver } from '../../connectors/dns/node.ts';
import { FsDkimKeys } from '../../connectors/dkim/fs.ts';
import { NodemailerSmtpClient } from '../../connectors/smtp-client/nodemailer.ts';
import { KeyedLimiter } from '../../connectors/smtp-client/limiter.ts';
import { DEFAULT_RETRY_SCHEDULE, type OutboundPolicy, type OutboundResources } from '../../connectors/outbound.ts';
import type { BlobStore } from '../../connectors/blob/blob.ts';
import type { MailOutbound } from '../../schemas/types.ts';

export function testPolicy(overrides: Partial<OutboundPolicy> = {}): OutboundPolicy {
  return {
    hostname: 'mx.sluice.test',
    port: 25,
    relay: null,
    retrySchedule: DEFAULT_RETRY_SCHEDULE,
    maxAgeMs: 5 * 86_400_000,
    delayWarningMs: 4 * 3_600_000,
    ...overrides,
  };
}

export function testOutbound(dir: string, dnsAddress: string, policy: OutboundPolicy, perDestination = 5): OutboundResources {
  return {
    dns: new NodeDnsResolver({ servers: [dnsAddress], timeoutMs: 1_000, tries: 1 }),
    smtp: new NodemailerSmtpClient({ hostname: policy.hostname, connectTimeoutMs: 2_000 }),
    limiter: new KeyedLimiter(perDestination),
    dkim: new FsDkimKeys(path.join(dir, 'dkim')),
    policy,
  };
}

export async function queuedMail(blobs: BlobStore, over: Partial<MailOutbound> & { domain: string; recipients: string[] }, raw?: string): Promise<MailOutbound> {
  const message = Buffer.from(raw ?? `From: <alice@sluice.test>\r\nTo: <${over.recipients[0]}>\r\nSubject: test\r\nMessage-ID: <m1@client.test>\r\n\r\nHello.\r\n`);
  const rawBlob = await blobs.put(message);
  return {
    outboundId: `ing-1:${over.domain}`,
    ingressId: 'ing-1',
    userId: 'alice@sluice.test',
    mailFrom: 'alice@sluice.test',
    submittedAt: 1_736_157_600_000,
    rawBlob,
    size: message.length,
    attempt: 0,
    notBefore: 0,
    delayNotified: false,
    lastResponses: {},
    scanned: '',
    addedHeaders: '',
    ...over,
  };
}

/**
 * A MailOutbound record whose message is nowhere (the runner tests pass it through stages that
 * do not read the message): one recipient at `domain`, due at `notBefore`.
 */
export function outboundRecord(id: string, domain: string, notBefore = 0): MailOutbound {
  return {
    outboundId: id, ingressId: id, userId: 'alice@sluice.test', mailFrom: 'alice@sluice.test', domain, recipients: [`x@${domain}`],
    submittedAt: 0, rawBlob: 'a'.repeat(64), size: 1, attempt: 1, notBefore, delayNotified: false, lastResponses: {}, scanned: '', addedHeaders: '',
  };
}
