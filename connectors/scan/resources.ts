/**
 * What the spam and virus stages get from the composition root (ops/app.ts), built from
 * `scan.clamd`, `scan.rspamd`, `dns.servers`, `spam.*` and `hostname`. A scanner that is not
 * configured is null — the stages then say so in the message, never pass silently.
 */
import type { Quarantine } from './quarantine.ts';
import type { BayesStore } from './bayes.ts';
import type { SpamScanner, VirusScanner } from './scanner.ts';

/** A DNS lookup as mailauth calls it: like `dns.promises.resolve(name, rrtype)`. */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

export interface SpamPolicy {
  /** Total score at or above which a message goes to Junk. */
  readonly threshold: number;
  /** Added when DMARC fails for a domain whose policy is `reject` (RFC 7489 §6.3 `p=reject`). */
  readonly dmarcRejectScore: number;
  /** Added when DMARC fails for a domain whose policy is `quarantine`. */
  readonly dmarcQuarantineScore: number;
}

export interface ScanResources {
  readonly virus: VirusScanner | null;
  readonly spam: SpamScanner | null;
  readonly quarantine: Quarantine | null;
  /** The per-user Bayes model (trained by `spam-learn`, read by `spam`); null: no Bayes verdicts. */
  readonly bayes: BayesStore | null;
  /** Null: the system's resolver. */
  readonly resolver: DnsResolver | null;
  /** This server's name: the authserv-id of Authentication-Results (RFC 8601 §2.5). */
  readonly hostname: string;
  readonly spamPolicy: SpamPolicy;
}

export const DEFAULT_SPAM_POLICY: SpamPolicy = { threshold: 6, dmarcRejectScore: 10, dmarcQuarantineScore: 5 };
