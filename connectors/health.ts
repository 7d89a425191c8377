/**
 * Engine health: every connector answers `health()` with one cheap round trip to its engine
 * (a `SELECT` on SQLite, cluster metadata from Kafka, `system.local` from Cassandra, the index's
 * health from OpenSearch, a HEAD of the bucket on S3, `PING` to clamd), for `/ops` and `/metrics`.
 * A check never throws: a failure, or no answer within the time limit, is `ok: false` with why.
 */

export interface EngineHealth {
  /** The implementation, as the config names it: embedded, kafka, sqlite, cassandra, opensearch, files, s3, clamd, rspamd. */
  readonly kind: string;
  readonly ok: boolean;
  /** How long the check took, ms (up to the time limit when it got no answer). */
  readonly latencyMs: number;
  /** Why it is not ok. */
  readonly error?: string;
  /** A short fact from the engine when ok, e.g. `1 broker`, `Cassandra 5.0.4`, `index green`. */
  readonly detail?: string;
}

/** A connector whose engine can be asked whether it is there. */
export interface HealthCheck {
  health(): Promise<EngineHealth>;
}

export const HEALTH_TIMEOUT_MS = 3_000;

/** Times `check` (resolving to an optional detail) and turns its failure or silence into `ok: false`. */
export async function checkHealth(kind: string, check: () => Promise<string | undefined> | string | undefined, timeoutMs = HEALTH_TIMEOUT_MS): Promise<EngineHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const detail = await Promise.race([Promise.resolve().then(check), timeout]);
    return { kind, ok: true, latencyMs: performance.now() - started, ...(detail ? { detail } : {}) };
  } catch (err) {
    return { kind, ok: false, latencyMs: performance.now() - started, error: err instanceof Error ? err.message || err.name : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** One health of several parts (the embedded blob store: a SQLite file and a folder): ok when all are. */
export function combineHealth(kind: string, parts: readonly EngineHealth[]): EngineHealth {
  const failed = parts.filter((p) => !p.ok);
  const latencyMs = parts.reduce((max, p) => Math.max(max, p.latencyMs), 0);
  if (failed.length > 0) return { kind, ok: false, latencyMs, error: failed.map((p) => `${p.kind}: ${p.error ?? 'down'}`).join('; ') };
  return { kind, ok: true, latencyMs };
}

/** The check of a SQLite-backed connector: a read of the schema table on its connection (fails once closed). */
export function sqliteHealth(kind: string, db: { prepare(sql: string): { get(): unknown } }): Promise<EngineHealth> {
  return checkHealth(kind, () => {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return undefined;
  });
}
