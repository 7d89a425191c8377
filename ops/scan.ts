/**
 * The scan resources of the composition root: clamd (`scan.clamd`), rspamd (`scan.rspamd`), the
 * quarantine (`quarantine.db` in the data folder), the DNS resolver the sender-authentication
 * checks use (`dns.servers`: a list of host:port; empty = the system's), and `spam.*`.
 */
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Metrics } from './metrics.ts';
import { ClamdScanner } from '../connectors/scan/clamd.ts';
import { RspamdScanner } from '../connectors/scan/rspamd.ts';
import { SqliteQuarantine } from '../connectors/scan/sqlite-quarantine.ts';
import { SqliteBayesStore } from '../connectors/scan/sqlite-bayes.ts';
import type { DnsResolver, ScanResources } from '../connectors/scan/resources.ts';

/** A resolver asking only these servers (`host:port`), or null for the system's. */
export function dnsResolver(servers: readonly string[]): DnsResolver | null {
  if (servers.length === 0) return null;
  const resolver = new Resolver({ timeout: 2_000, tries: 2 });
  resolver.setServers([...servers]);
  return (name, rrtype) => resolver.resolve(name, rrtype);
}

export function openScanResources(config: Readonly<Config>): ScanResources & { close(): Promise<void> } {
  const quarantine = new SqliteQuarantine({ path: join(config.dataDir, 'quarantine.db') });
  const bayes = new SqliteBayesStore({ path: join(config.dataDir, 'bayes.db') });
  const virus = config.scan.clamd ? new ClamdScanner({ address: config.scan.clamd }) : null;
  const spam = config.scan.rspamd ? new RspamdScanner({ url: config.scan.rspamd }) : null;
  return {
    virus,
    spam,
    quarantine,
    bayes,
    resolver: dnsResolver(config.dns.servers),
    hostname: config.hostname,
    spamPolicy: config.spam,
    async close() {
      await virus?.close();
      await spam?.close();
      await quarantine.close();
      await bayes.close();
    },
  };
}

/** At start-up: say loudly which scanners are missing, and show it on /metrics. */
export function reportScanners(config: Readonly<Config>, logger: Logger, metrics: Metrics): void {
  metrics.scanConfigured.set({ scanner: 'clamd' }, config.scan.clamd ? 1 : 0);
  metrics.scanConfigured.set({ scanner: 'rspamd' }, config.scan.rspamd ? 1 : 0);
  if (!config.scan.clamd) {
    logger.warn('NO VIRUS SCANNING: scan.clamd is not set — mail is stored with "X-Sluice-Virus-Scan: not scanned" and outgoing mail is sent unscanned; set scan.clamd (SLUICE_SCAN_CLAMD) to host:port or a socket path');
  }
  if (!config.scan.rspamd) logger.info('scan.rspamd not set: spam verdicts from the built-in checks only, and outgoing mail is not checked for spam');
}
