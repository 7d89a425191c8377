/**
 * A thin layer over cassandra-driver's client for the mail store: prepared statements at
 * LOCAL_QUORUM (LOCAL_SERIAL for the few lightweight transactions), logged batches for writes
 * that must land together, and Long → number.
 */
import cassandra from 'cassandra-driver';
import type { Client, types } from 'cassandra-driver';

/** One write of a batch. */
export interface Statement {
  readonly query: string;
  readonly params: readonly unknown[];
}

/**
 * Limits of one logged batch: a batch is applied all or nothing (Cassandra's batch log), so a
 * delivery or a change is one batch; an unusually large change (renaming an INBOX of thousands
 * of messages) is cut into batches, each atomic, in order, the command's record in the last —
 * a replay after a crash in between finishes the change. The byte limit stays under the node's
 * `batch_size_fail_threshold` (ops/engines/cassandra.sh sets 1 MiB; Cassandra's default is 50 KiB).
 */
const MAX_BATCH_STATEMENTS = 200;
const MAX_BATCH_BYTES = 256 * 1024;

/** Roughly the bytes a statement writes (its parameters). */
function weight(params: readonly unknown[]): number {
  let n = 16;
  for (const p of params) {
    if (typeof p === 'string') n += p.length;
    else if (Array.isArray(p)) n += p.reduce((a: number, x: unknown) => a + String(x).length + 4, 0);
    else n += 8;
  }
  return n;
}

/** Statements cut into batches by count and size, in order. */
export function chunks(statements: readonly Statement[]): Statement[][] {
  const out: Statement[][] = [];
  let current: Statement[] = [];
  let bytes = 0;
  for (const s of statements) {
    const w = weight(s.params);
    if (current.length > 0 && (current.length >= MAX_BATCH_STATEMENTS || bytes + w > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(s);
    bytes += w;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export const LOCAL_QUORUM = cassandra.types.consistencies.localQuorum;
export const LOCAL_SERIAL = cassandra.types.consistencies.localSerial;

/** A bigint (Long), int or null column value as a JS number. */
export function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof cassandra.types.Long) return value.toNumber();
  return Number(value);
}

export function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

export class Cql {
  constructor(readonly client: Client) {}

  async rows(query: string, params: readonly unknown[] = []): Promise<types.Row[]> {
    const rs = await this.client.execute(query, params as unknown[], { prepare: true, consistency: LOCAL_QUORUM });
    return rs.rows;
  }

  async row(query: string, params: readonly unknown[] = []): Promise<types.Row | null> {
    return (await this.rows(query, params))[0] ?? null;
  }

  async execute(query: string, params: readonly unknown[] = []): Promise<void> {
    await this.client.execute(query, params as unknown[], { prepare: true, consistency: LOCAL_QUORUM });
  }

  /** A lightweight transaction (`… IF NOT EXISTS` / `IF EXISTS`): whether it applied, and the row it saw. */
  async lwt(query: string, params: readonly unknown[]): Promise<{ applied: boolean; row: types.Row }> {
    const rs = await this.client.execute(query, params as unknown[], {
      prepare: true,
      consistency: LOCAL_QUORUM,
      serialConsistency: LOCAL_SERIAL,
    });
    const row = rs.first();
    return { applied: row.get('[applied]') === true, row };
  }

  /** Writes as logged batches (all or nothing each), in order. */
  async batch(statements: readonly Statement[]): Promise<void> {
    for (const chunk of chunks(statements)) {
      if (chunk.length === 1) {
        await this.execute(chunk[0].query, chunk[0].params);
        continue;
      }
      await this.client.batch(
        chunk.map((s) => ({ query: s.query, params: s.params as unknown[] })),
        { prepare: true, logged: true, consistency: LOCAL_QUORUM },
      );
    }
  }
}
