/**
 * rspamd as a `SpamScanner`: one `POST /checkv2` per message with the SMTP envelope in request
 * headers (https://rspamd.com/doc/developers/protocol.html). rspamd unreachable, or answering
 * 5xx, is `ScannerUnavailableError`.
 */
import { ScannerUnavailableError, type ScanEnvelope, type SpamAction, type SpamScanner, type SpamVerdict } from './scanner.ts';
import { checkHealth, HEALTH_TIMEOUT_MS, type EngineHealth } from '../health.ts';

const ACTIONS: readonly SpamAction[] = ['no action', 'greylist', 'add header', 'rewrite subject', 'soft reject', 'reject'];

interface CheckV2Reply {
  score?: number;
  required_score?: number;
  action?: string;
  symbols?: Record<string, { name?: string; score?: number }>;
}

export class RspamdScanner implements SpamScanner {
  readonly name: string;
  private readonly url: string;
  private readonly timeoutMs: number;

  constructor(options: { url: string; timeoutMs?: number }) {
    this.url = options.url.replace(/\/+$/, '');
    this.name = `rspamd ${this.url}`;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async check(raw: Buffer, envelope: ScanEnvelope): Promise<SpamVerdict> {
    let response: Response;
    try {
      response = await fetch(`${this.url}/checkv2`, {
        method: 'POST',
        body: new Uint8Array(raw),
        headers: {
          'Content-Type': 'message/rfc822',
          IP: envelope.remoteAddress,
          Helo: envelope.helo,
          From: envelope.mailFrom,
          Rcpt: envelope.recipient,
          'Queue-Id': envelope.queueId,
          ...(envelope.user ? { User: envelope.user } : {}),
        },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new ScannerUnavailableError(`${this.name} unreachable: ${(err as Error).message}`, { cause: err });
    }
    const text = await response.text();
    if (response.status >= 500) throw new ScannerUnavailableError(`${this.name}: HTTP ${response.status} ${text.slice(0, 200)}`);
    if (!response.ok) throw new Error(`${this.name}: HTTP ${response.status} ${text.slice(0, 200)}`);
    const reply = JSON.parse(text) as CheckV2Reply;
    const action = ACTIONS.find((a) => a === reply.action);
    if (!action || typeof reply.score !== 'number') throw new Error(`${this.name}: unexpected reply ${text.slice(0, 200)}`);
    const symbols = Object.entries(reply.symbols ?? {})
      .map(([name, s]) => ({ name: s.name ?? name, score: s.score ?? 0 }))
      .filter((s) => s.score !== 0)
      .sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
    return { score: reply.score, requiredScore: reply.required_score ?? 15, action, symbols };
  }

  /** rspamd's `GET /ping`, answered `pong` by every worker. */
  health(): Promise<EngineHealth> {
    return checkHealth('rspamd', async () => {
      const response = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
      const text = (await response.text()).trim();
      if (!response.ok || text !== 'pong') throw new Error(`HTTP ${response.status} ${text.slice(0, 80)}`);
      return undefined;
    });
  }

  async close(): Promise<void> {
    // fetch keeps no state of ours.
  }
}
