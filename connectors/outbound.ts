/**
 * What the stages of the sending flow (outbound.yaml) get from the composition root: DNS
 * (`dns.servers`), the SMTP client, the DKIM keys, and the `outbound.*` policy.
 */
import type { DnsResolver } from './dns/dns.ts';
import type { DkimKeys } from './dkim/keys.ts';
import type { SmtpClient } from './smtp-client/smtp-client.ts';
import type { KeyedLimiter } from './smtp-client/limiter.ts';

export interface OutboundPolicy {
  /** This server's name: EHLO, Message-ID, DSN Reporting-MTA. */
  readonly hostname: string;
  /** Port of the recipients' MX hosts (RFC 5321: 25; other values for tests). */
  readonly port: number;
  /** A smarthost `host:port` that takes all outgoing mail instead of the MX hosts; null: none. */
  readonly relay: string | null;
  /** Delay before retry n (1-based); the last one repeats. */
  readonly retrySchedule: readonly number[];
  /** Give up (failure DSN) this long after submission. */
  readonly maxAgeMs: number;
  /** Tell the sender (delayed DSN, once) when mail is still queued this long after submission. */
  readonly delayWarningMs: number;
}

export interface OutboundResources {
  readonly dns: DnsResolver;
  readonly smtp: SmtpClient;
  /** Connections at once per destination (recipient domain or relay). */
  readonly limiter: KeyedLimiter;
  readonly dkim: DkimKeys;
  readonly policy: OutboundPolicy;
}

export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [60_000, 300_000, 1_800_000, 7_200_000, 28_800_000];
