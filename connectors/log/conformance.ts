/**
 * The contract every `Log` implementation passes (embedded SQLite log, Kafka): run it from the
 * implementation's test file with `runLogConformance('name', factory)`.
 *
 * Only the `Log` interface is used. Where Kafka legitimately differs from the embedded log the
 * tests stay tolerant: no exact timings, offsets only required to increase (transaction markers
 * take offsets in Kafka), records found by reading rather than by counting end offsets after an
 * aborted commit. Topic and group names are unique per test so a shared cluster can be used.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { partitionFor } from './log.ts';
import type { Consumer, Log, LogRecord, ProduceRecord } from './log.ts';

export interface LogUnderTest {
  readonly log: Log;
  /**
   * Opens a new `Log` over the same storage (the test has closed `log` first): what was
   * acknowledged before must be there. Kafka: a new client of the same cluster.
   */
  readonly reopen: () => Promise<Log>;
  /** Closes every `Log` the factory opened (close is idempotent) and removes the storage. */
  readonly cleanup: () => Promise<void>;
}

/** Generous bound for "eventually" in a test; the embedded log answers in milliseconds. */
const PATIENCE_MS = 15_000;

export function runLogConformance(name: string, newLog: () => Promise<LogUnderTest>): void {
  describe(`Log conformance: ${name}`, () => {
    let subject: LogUnderTest;
    let log: Log;
    let consumers: Consumer[];

    beforeEach(async () => {
      subject = await newLog();
      log = subject.log;
      consumers = [];
    });
    afterEach(async () => {
      // A test may have closed some already (close is idempotent on the embedded log, maybe not elsewhere).
      for (const c of consumers) await c.close().catch(() => undefined);
      await subject.cleanup();
    });

    async function open(group: string, topics: readonly string[], on: Log = log): Promise<Consumer> {
      const consumer = await on.consumer(group, topics);
      consumers.push(consumer);
      return consumer;
    }

    async function topic(partitions: number): Promise<string> {
      const t = unique('topic');
      await log.ensureTopics([{ name: t, partitions }]);
      return t;
    }

    it('health() answers ok with its kind and latency, and not ok once closed', async () => {
      const up = await log.health();
      expect(up).toMatchObject({ ok: true });
      expect(up.kind).toMatch(/^[a-z0-9]+$/);
      expect(up.latencyMs).toBeGreaterThanOrEqual(0);
      await log.close();
      const down = await log.health();
      expect(down).toMatchObject({ ok: false, kind: up.kind });
      expect(down.error).toBeTruthy();
    });

    it('ensureTopics creates topics, is idempotent and keeps data', async () => {
      const t = unique('topic');
      await log.ensureTopics([{ name: t, partitions: 3 }]);
      await log.ensureTopics([{ name: t, partitions: 3 }]);
      expect((await log.topics()).find((s) => s.name === t)?.partitions).toBe(3);
      expect(await log.endOffsets(t)).toEqual([0, 0, 0]);
      const [position] = await log.produce([record(t, 'k', 'kept')]);
      await log.ensureTopics([{ name: t, partitions: 3 }]);
      const [kept] = await log.read(t, position.partition, position.offset, 1);
      expect(kept.value.toString()).toBe('kept');
    });

    it('partitions may grow but never shrink', async () => {
      const t = await topic(2);
      await log.ensureTopics([{ name: t, partitions: 4 }]);
      expect((await log.topics()).find((s) => s.name === t)?.partitions).toBe(4);
      expect(await log.endOffsets(t)).toHaveLength(4);
      await expect(log.ensureTopics([{ name: t, partitions: 1 }])).rejects.toThrow(/partition/i);
      expect((await log.topics()).find((s) => s.name === t)?.partitions).toBe(4);
    });

    it('produce places keys by partitionFor(key, n) with increasing offsets per partition', async () => {
      const t = await topic(4);
      const keys = Array.from({ length: 40 }, (_, i) => `user-${i % 10}@example.test`);
      const first = await log.produce(keys.map((k, i) => record(t, k, `v${i}`)));
      const second = await log.produce(keys.map((k, i) => record(t, k, `w${i}`)));
      const last = new Map<number, number>();
      [...first, ...second].forEach((position, i) => {
        const key = keys[i % keys.length];
        expect(position.topic).toBe(t);
        expect(position.partition).toBe(partitionFor(key, 4));
        expect(position.offset).toBeGreaterThan(last.get(position.partition) ?? -1);
        last.set(position.partition, position.offset);
      });
      const [explicit] = await log.produce([{ ...record(t, 'user-0@example.test', 'x'), partition: 3 }]);
      expect(explicit.partition).toBe(3);
    });

    it('read() returns key, value, headers and timestamp from an offset, up to max', async () => {
      const t = await topic(1);
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const timestamp = Date.now() - 60_000;
      const positions = await log.produce([
        { topic: t, key: 'a', value: bytes, headers: { 'content-type': 'avro/binary', trace: 'x1' }, timestamp },
        { topic: t, key: 'b', value: Buffer.alloc(0) },
        record(t, 'c', 'third'),
      ]);
      const all = await log.read(t, 0, positions[0].offset, 10);
      expect(all.map((r) => r.key)).toEqual(['a', 'b', 'c']);
      expect(all[0]).toMatchObject({ topic: t, partition: 0, offset: positions[0].offset, timestamp });
      expect(Buffer.compare(all[0].value, bytes)).toBe(0);
      expect(all[0].headers).toEqual({ 'content-type': 'avro/binary', trace: 'x1' });
      expect(all[1].value.length).toBe(0);
      expect(all[1].headers).toEqual({});
      expect(Math.abs(all[2].timestamp - Date.now())).toBeLessThan(60_000);
      expect((await log.read(t, 0, positions[0].offset, 1)).map((r) => r.key)).toEqual(['a']);
      expect((await log.read(t, 0, positions[1].offset, 10)).map((r) => r.key)).toEqual(['b', 'c']);
      expect(await log.read(t, 0, positions[2].offset + 1, 10)).toEqual([]);
    });

    it('acknowledged records and committed offsets survive close and reopen', async () => {
      const t = await topic(2);
      const group = unique('group');
      const positions = await log.produce(Array.from({ length: 6 }, (_, i) => record(t, `k${i}`, `durable-${i}`)));
      const consumer = await open(group, [t]);
      const polled = await collect(consumer, 6);
      await consumer.commit([], nextOffsets(polled.slice(0, 3)));
      const committedBefore = await log.committed(group, t);
      await consumer.close();
      await log.close();

      const reopened = await subject.reopen();
      for (const p of positions) {
        const [r] = await reopened.read(t, p.partition, p.offset, 1);
        expect(r.offset).toBe(p.offset);
      }
      const values = (await readAll(reopened, t, 2)).map((r) => r.value.toString()).sort();
      expect(values).toEqual(Array.from({ length: 6 }, (_, i) => `durable-${i}`));
      expect(await reopened.committed(group, t)).toEqual(committedBefore);
      const [after] = await reopened.produce([{ ...record(t, 'k', 'after'), partition: positions[0].partition }]);
      const before = positions.filter((p) => p.partition === after.partition).map((p) => p.offset);
      expect(after.offset).toBeGreaterThan(Math.max(...before));
      const again = await open(group, [t], reopened);
      const rest = await collect(again, 4);
      expect(rest.map((r) => r.value.toString()).sort()).toEqual(
        [...polled.slice(3).map((r) => r.value.toString()), 'after'].sort(),
      );
    });

    it('poll returns records in offset order and continues after the last one returned', async () => {
      const t = await topic(3);
      const other = await topic(1);
      const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
      for (let round = 0; round < 3; round++) {
        await log.produce(Array.from({ length: 20 }, (_, i) => record(t, keys[i % 6], `${keys[i % 6]}:${round * 20 + i}`)));
      }
      await log.produce([record(other, 'x', 'from-other')]);
      const consumer = await open(unique('group'), [t, other]);
      const got = await collect(consumer, 61);
      expect(got).toHaveLength(61);
      expect(got.filter((r) => r.topic === other).map((r) => r.value.toString())).toEqual(['from-other']);
      for (const p of [0, 1, 2]) {
        const offsets = got.filter((r) => r.topic === t && r.partition === p).map((r) => r.offset);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
        expect(new Set(offsets).size).toBe(offsets.length);
      }
      for (const k of keys) {
        const seq = got.filter((r) => r.key === k).map((r) => Number(r.value.toString().split(':')[1]));
        expect(seq).toEqual([...seq].sort((a, b) => a - b));
      }
      expect(await consumer.poll(100, 200)).toEqual([]);
    });

    it('poll waits for a record produced after it started, and times out empty', async () => {
      const t = await topic(2);
      const consumer = await open(unique('group'), [t]);
      const started = Date.now();
      expect(await consumer.poll(10, 200)).toEqual([]);
      expect(Date.now() - started).toBeLessThan(PATIENCE_MS);
      const waiting = consumer.poll(10, PATIENCE_MS);
      await sleep(100);
      const produceAt = Date.now();
      await log.produce([record(t, 'late', 'wake-up')]);
      const records = await waiting;
      expect(records.map((r) => r.value.toString())).toEqual(['wake-up']);
      expect(Date.now() - produceAt).toBeLessThan(PATIENCE_MS - 1000);
    });

    it('consumer groups are independent', async () => {
      const t = await topic(2);
      await log.produce(Array.from({ length: 10 }, (_, i) => record(t, `k${i}`, `v${i}`)));
      const groupA = unique('group-a');
      const groupB = unique('group-b');
      const a = await open(groupA, [t]);
      const readByA = await collect(a, 10);
      await a.commit([], nextOffsets(readByA));
      expect(await log.committed(groupA, t)).toEqual(await log.endOffsets(t));
      expect(await log.committed(groupB, t)).toEqual([0, 0]);
      const b = await open(groupB, [t]);
      const readByB = await collect(b, 10);
      expect(readByB.map((r) => r.value.toString()).sort()).toEqual(readByA.map((r) => r.value.toString()).sort());
    });

    it('commit appends outputs and moves offsets together; a new consumer starts after them', async () => {
      const input = await topic(1);
      const output = await topic(2);
      const group = unique('group');
      await log.produce(Array.from({ length: 10 }, (_, i) => record(input, `user-${i}`, `in-${i}`)));
      const first = await open(group, [input]);
      const polled = await collect(first, 10);
      const done = polled.slice(0, 6);
      await first.commit(
        done.map((r) => record(output, r.key, `out-${r.value.toString()}`)),
        nextOffsets(done),
      );
      expect(await log.committed(group, input)).toEqual([done[5].offset + 1]);
      const outputs = await readAll(log, output, 2);
      expect(outputs.map((r) => r.value.toString()).sort()).toEqual(done.map((r) => `out-${r.value.toString()}`).sort());
      for (const r of outputs) expect(r.partition).toBe(partitionFor(r.key, 2));
      await first.close();
      const second = await open(group, [input]);
      const rest = await collect(second, 4);
      expect(rest.map((r) => r.value.toString())).toEqual(['in-6', 'in-7', 'in-8', 'in-9']);
      expect(await second.poll(10, 200)).toEqual([]);
    });

    it('a failed commit leaves neither outputs nor offsets behind', async () => {
      const input = await topic(1);
      const output = await topic(1);
      const group = unique('group');
      await log.produce([record(input, 'k', 'in-0'), record(input, 'k', 'in-1')]);
      const consumer = await open(group, [input]);
      const polled = await collect(consumer, 2);
      const missing = unique('missing');
      await expect(
        consumer.commit([record(output, 'k', 'out-0'), record(missing, 'k', 'out-1')], nextOffsets(polled)),
      ).rejects.toThrow(missing);
      expect(await log.committed(group, input)).toEqual([0]);
      expect(await log.read(output, 0, 0, 10)).toEqual([]);
      await consumer.rewind();
      expect((await collect(consumer, 2)).map((r) => r.value.toString())).toEqual(['in-0', 'in-1']);
    });

    it('uncommitted records are replayed after rewind and by a new consumer of the group', async () => {
      const t = await topic(1);
      const group = unique('group');
      await log.produce(Array.from({ length: 5 }, (_, i) => record(t, 'k', `v${i}`)));
      const consumer = await open(group, [t]);
      const polled = await collect(consumer, 5);
      await consumer.commit([], nextOffsets(polled.slice(0, 2)));
      await consumer.rewind();
      expect((await collect(consumer, 3)).map((r) => r.value.toString())).toEqual(['v2', 'v3', 'v4']);
      await consumer.close();
      const replay = await open(group, [t]);
      expect((await collect(replay, 3)).map((r) => r.value.toString())).toEqual(['v2', 'v3', 'v4']);
    });

    it('pauseAt holds one partition from an offset (others flow); resume reads it again from there', async () => {
      const t = await topic(2);
      const [k0, k1] = keysForPartitions(2);
      await log.produce([record(t, k0, 'a0'), record(t, k0, 'a1'), record(t, k0, 'a2'), record(t, k1, 'b0')]);
      const consumer = await open(unique('group'), [t]);
      const first = await collect(consumer, 4);
      const p0 = first.find((r) => r.key === k0)!.partition;
      consumer.pauseAt({ topic: t, partition: p0, offset: 1 });
      const p1 = first.find((r) => r.key === k1)!.partition;
      await consumer.commit([], [{ topic: t, partition: p0, offset: 1 }, { topic: t, partition: p1, offset: 1 }]);
      await log.produce([record(t, k1, 'b1'), record(t, k0, 'a3')]);
      const during = await consumer.poll(10, 300);
      expect(during.map((r) => r.value.toString())).toEqual(['b1']);
      await consumer.rewind(); // a rewind keeps the hold
      expect((await consumer.poll(10, 200)).map((r) => r.value.toString())).toEqual(['b1']);
      consumer.resume(t, p0);
      const after = await collect(consumer, 3);
      expect(after.filter((r) => r.partition === p0).map((r) => r.value.toString())).toEqual(['a1', 'a2', 'a3']);
    });

    it('lag counts unread records and the age of the oldest one', async () => {
      const t = await topic(2);
      const group = unique('group');
      const now = Date.now();
      const positions = await log.produce([
        { ...record(t, 'k', 'old'), partition: 0, timestamp: now - 30_000 },
        { ...record(t, 'k', 'newer'), partition: 0, timestamp: now - 10_000 },
        { ...record(t, 'k', 'newest'), partition: 0, timestamp: now - 10_000 },
      ]);
      const lag0 = await lagOf(log, group, t);
      expect(lag0[0]).toMatchObject({ group, topic: t, partition: 0, committed: 0, records: 3 });
      expect(lag0[0].end).toBe(positions[2].offset + 1);
      expect(lag0[0].seconds).toBeGreaterThanOrEqual(29);
      expect(lag0[0].seconds).toBeLessThan(3600);
      expect(lag0[1]).toMatchObject({ partition: 1, records: 0, seconds: 0 });

      const consumer = await open(group, [t]);
      const polled = await collect(consumer, 3);
      await consumer.commit([], nextOffsets(polled.slice(0, 1)));
      const lag1 = await lagOf(log, group, t);
      expect(lag1[0].records).toBe(2);
      expect(lag1[0].seconds).toBeGreaterThanOrEqual(9);
      expect(lag1[0].seconds).toBeLessThan(29);
      await consumer.commit([], nextOffsets(polled));
      expect((await lagOf(log, group, t))[0]).toMatchObject({ records: 0, seconds: 0 });
    });

    it('enforceRetention deletes records older than their topic retention; offsets are never reused', async () => {
      const t = unique('topic');
      const now = Date.now();
      await log.ensureTopics([{ name: t, partitions: 1, retentionMs: 60_000 }]);
      expect((await log.topics()).find((s) => s.name === t)?.retentionMs).toBe(60_000);
      // Increasing timestamps: the old ones are a prefix, which is what Kafka can delete.
      const positions = await log.produce([
        { ...record(t, 'k', 'old-1'), timestamp: now - 300_000 },
        { ...record(t, 'k', 'old-2'), timestamp: now - 120_000 },
        { ...record(t, 'k', 'new'), timestamp: now - 1_000 },
      ]);
      const endBefore = await log.endOffsets(t);
      // Other topics of a shared cluster may lose records too: at least these two went.
      expect(await log.enforceRetention(now)).toBeGreaterThanOrEqual(2);
      expect((await log.read(t, 0, 0, 10)).map((r) => [r.offset, r.value.toString()])).toEqual([[positions[2].offset, 'new']]);
      expect(await log.endOffsets(t)).toEqual(endBefore);
      const consumer = await open(unique('group'), [t]);
      expect((await collect(consumer, 1)).map((r) => r.value.toString())).toEqual(['new']);
      const [after] = await log.produce([record(t, 'k', 'next')]);
      expect(after.offset).toBeGreaterThan(positions[2].offset);
    });

    it('concurrent produce calls all resolve with distinct offsets', async () => {
      const t = await topic(2);
      const calls = Array.from({ length: 300 }, (_, i) => log.produce([record(t, `k${i % 7}`, `c${i}`)]));
      const positions = (await Promise.all(calls)).flat();
      expect(positions).toHaveLength(300);
      expect(new Set(positions.map((p) => `${p.partition}:${p.offset}`)).size).toBe(300);
      const values = (await readAll(log, t, 2)).map((r) => r.value.toString());
      expect(new Set(values)).toEqual(new Set(Array.from({ length: 300 }, (_, i) => `c${i}`)));
    });

    it('rejects unknown topics and partitions out of range, without failing other calls', async () => {
      const t = await topic(2);
      const missing = unique('missing');
      // Each expectation is attached at once: the calls may fail in any order (Kafka checks
      // the missing topic with the cluster, the partition from its cached metadata).
      const bad = expect(log.produce([record(missing, 'k', 'v')])).rejects.toThrow(missing);
      const outOfRange = expect(log.produce([{ ...record(t, 'k', 'v'), partition: 2 }])).rejects.toThrow(/partition/i);
      const good = log.produce([record(t, 'k', 'fine')]);
      await bad;
      await outOfRange;
      const [position] = await good;
      expect((await log.read(t, position.partition, position.offset, 1))[0].value.toString()).toBe('fine');
      expect((await readAll(log, t, 2)).map((r) => r.value.toString())).toEqual(['fine']);
    });
  });
}

/** Two keys that land in different partitions of a topic with `partitions` partitions. */
function keysForPartitions(partitions: number): [string, string] {
  const first = 'key-0';
  for (let i = 1; ; i++) {
    const k = `key-${i}`;
    if (partitionFor(k, partitions) !== partitionFor(first, partitions)) return [first, k];
  }
}

function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

function record(topic: string, key: string, value: string): ProduceRecord {
  return { topic, key, value: Buffer.from(value) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `count` records have arrived (or PATIENCE_MS passed). */
async function collect(consumer: Consumer, count: number): Promise<LogRecord[]> {
  const got: LogRecord[] = [];
  const deadline = Date.now() + PATIENCE_MS;
  while (got.length < count && Date.now() < deadline) {
    got.push(...(await consumer.poll(count - got.length, 500)));
  }
  expect(got).toHaveLength(count);
  return got;
}

/** The offsets to commit after processing `records`: per partition, the last offset + 1. */
function nextOffsets(records: readonly LogRecord[]): { topic: string; partition: number; offset: number }[] {
  const next = new Map<string, { topic: string; partition: number; offset: number }>();
  for (const r of records) {
    const key = `${r.topic}\u0000${r.partition}`;
    if ((next.get(key)?.offset ?? -1) < r.offset + 1) next.set(key, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
  }
  return [...next.values()];
}

async function readAll(log: Log, topic: string, partitions: number): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for (let p = 0; p < partitions; p++) out.push(...(await log.read(topic, p, 0, 100_000)));
  return out;
}

async function lagOf(log: Log, group: string, topic: string) {
  return (await log.lag(group, [topic])).sort((a, b) => a.partition - b.partition);
}
