/**
 * The outbound resources of the composition root: DNS through `dns.servers` (connectors/dns),
 * the SMTP client (nodemailer), the per-destination connection limit, the DKIM keys under
 * `<dataDir>/dkim/`, and the `outbound.*` policy.
 */
import { join } from 'node:path';
import type { Config } from './config.ts';
import { NodeDnsResolver } from '../connectors/dns/node.ts';
import { FsDkimKeys } from '../connectors/dkim/fs.ts';
import { NodemailerSmtpClient } from '../connectors/smtp-client/nodemailer.ts';
import { KeyedLimiter } from '../connectors/smtp-client/limiter.ts';
import type { OutboundResources } from '../connectors/outbound.ts';

/** Where `sluice domain add` and the prepare stage keep the DKIM keys. */
export function dkimDir(config: Readonly<Config>): string {
  return join(config.dataDir, 'dkim');
}

export function openOutboundResources(config: Readonly<Config>): OutboundResources & { close(): Promise<void> } {
  const smtp = new NodemailerSmtpClient({ hostname: config.hostname, connectTimeoutMs: config.outbound.connectTimeout, idleTimeoutMs: config.outbound.idleTimeout });
  return {
    dns: new NodeDnsResolver({ servers: config.dns.servers }),
    smtp,
    limiter: new KeyedLimiter(config.outbound.connectionsPerDomain),
    dkim: new FsDkimKeys(dkimDir(config)),
    policy: {
      hostname: config.hostname,
      port: config.outbound.port,
      relay: config.outbound.relay ?? null,
      retrySchedule: config.outbound.retrySchedule,
      maxAgeMs: config.outbound.maxAge,
      delayWarningMs: config.outbound.delayWarning,
    },
    close: () => smtp.close(),
  };
}
