/**
 * Scanners behind small interfaces (DESIGN.md §3 `connectors/scan/`): a virus scanner (embedded
 * and distributed: ClamAV's clamd) and a spam scanner (rspamd). The stages take them as
 * resources; the composition root picks the implementations from `scan.clamd` / `scan.rspamd`.
 *
 * A scanner that cannot be reached throws `ScannerUnavailableError`: a passing fault, which the
 * stages turn into `RetryableError` so the mail waits in the log rather than passing unscanned.
 * Any other error means the scanner answered but could not judge this message.
 */
import type { EngineHealth } from '../health.ts';

export interface VirusVerdict {
  readonly infected: boolean;
  /** Signature names, e.g. `Eicar-Signature`; empty when clean. */
  readonly viruses: readonly string[];
}

export interface VirusScanner {
  /** What it is, for logs and headers, e.g. `clamd 127.0.0.1:3310`. */
  readonly name: string;
  scan(bytes: Buffer): Promise<VirusVerdict>;
  /** Whether the scanner answers (`connectors/health.ts`); never throws. */
  health(): Promise<EngineHealth>;
  close(): Promise<void>;
}

/** rspamd's actions (https://rspamd.com/doc/configuration/metrics.html), lowest to highest. */
export type SpamAction = 'no action' | 'greylist' | 'add header' | 'rewrite subject' | 'soft reject' | 'reject';

export interface SpamVerdict {
  readonly score: number;
  /** The scanner's own threshold for `reject`. */
  readonly requiredScore: number;
  readonly action: SpamAction;
  /** Names of the rules that matched, with their scores (only the non-zero ones). */
  readonly symbols: readonly { name: string; score: number }[];
}

/** What the SMTP transaction said about the message, for the scanner's own checks. */
export interface ScanEnvelope {
  readonly remoteAddress: string;
  readonly helo: string;
  readonly mailFrom: string;
  readonly recipient: string;
  /** An id for the scanner's log: the ingress id. */
  readonly queueId: string;
  /** The authenticated sender of outgoing mail (rspamd then applies its outbound rules). */
  readonly user?: string;
}

export interface SpamScanner {
  readonly name: string;
  check(raw: Buffer, envelope: ScanEnvelope): Promise<SpamVerdict>;
  /** Whether the scanner answers (`connectors/health.ts`); never throws. */
  health(): Promise<EngineHealth>;
  close(): Promise<void>;
}

export class ScannerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScannerUnavailableError';
  }
}

/** Errors of a connection that did not happen or broke: the scanner is down, not the message bad. */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'EAI_AGAIN'].includes(code);
}
