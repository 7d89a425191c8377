import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OpsDashboard } from './snapshot.ts';
import { StageThroughput } from './throughput.ts';
import { EmbeddedLog } from '../../connectors/log/embedded.ts';
import { SqliteMailStore } from '../../connectors/store/sqlite.ts';
import { SqliteSearchIndex } from '../../connectors/search/sqlite.ts';
import { FsBlobStore } from '../../connectors/blob/fs.ts';
import { loadTopologies } from '../../topology/loader.ts';
import { PROCESSORS } from '../../processors/index.ts';
import { stageGroup } from '../../topology/runner.ts';
import { schemaType } from '../../schemas/registry.ts';
import type { DeadLetter } from '../../schemas/types.ts';
import type { ProduceRecord } from '../../connectors/log/log.ts';

const topologies = loadTopologies('topology', PROCESSORS);

describe('OpsDashboard', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function open(options: { stallLag?: () => boolean } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-ops-'));
    dirs.push(dir);
    const log = new EmbeddedLog({ path: join(dir, 'log.db') });
    await log.ensureTopics(topologies.flatMap((t) => [...t.topics.values()].map((topic) => ({ name: topic.name, partitions: topic.partitions }))));
    const store = new SqliteMailStore({ path: join(dir, 'mail.db') });
    const search = new SqliteSearchIndex({ path: join(dir, 'search.db') });
    const blobs = new FsBlobStore({ dir: join(dir, 'blobs') });
    const throughput = new StageThroughput();
    // A log whose lag reads can be made to hang, as a Kafka client's do while a broker is gone.
    const read = Object.assign(Object.create(log) as EmbeddedLog, {
      lag: (group: string, topics: readonly string[]) => (options.stallLag?.() ? new Promise<never>(() => undefined) : log.lag(group, topics)),
    });
    const dashboard = new OpsDashboard({ log: read, topologies, throughput, logReadLimitMs: 300, engines: { log, store, search, blobs, clamd: null, rspamd: null } });
    return { log, store, search, blobs, throughput, dashboard, close: async () => Promise.all([log.close(), store.close(), search.close()]) };
  }

  it('shows records produced but not committed as lag of the stage reading them, per partition', async () => {
    const o = await open();
    try {
      const inbound = topologies.find((t) => t.name === 'inbound')!;
      const parse = inbound.stages.find((s) => s.name === 'parse')!;
      await o.log.produce([0, 1, 2].map((i) => ({ topic: parse.from, key: 'alice@example.test', value: Buffer.from([i]), timestamp: Date.now() - 4_000 })));
      // The group commits the first of the three.
      const consumer = await o.log.consumer(stageGroup(inbound, parse), [parse.from]);
      const [first] = await consumer.poll(1, 1_000);
      await consumer.commit([], [{ topic: first.topic, partition: first.partition, offset: first.offset + 1 }]);
      await consumer.close();
      o.throughput.records('parse', 1);
      o.throughput.batch('parse', 0.005);

      const snapshot = await o.dashboard.snapshot();
      expect(snapshot.logError).toBeNull();
      const s = snapshot.topologies.find((t) => t.name === 'inbound')!.stages.find((st) => st.stage === 'parse')!;
      expect(s.lagRecords).toBe(2);
      expect(s.lagSeconds).toBeGreaterThanOrEqual(4);
      const held = s.partitions.find((p) => p.partition === first.partition)!;
      expect(held).toMatchObject({ committed: 1, end: 3, lagRecords: 2 });
      expect(s.partitions.filter((p) => p !== held).every((p) => p.lagRecords === 0 && p.lagSeconds === 0)).toBe(true);
      expect(s.throughput.last10s).toEqual({ recordsPerSecond: 0.1, batches: 1, batchMs: 5 });
      expect(snapshot.engines.filter((e) => e.configured).every((e) => e.ok)).toBe(true);
    } finally {
      await o.close();
    }
  });

  it('counts the dead letters of each stage in a topic several stages share', async () => {
    const o = await open();
    try {
      const type = schemaType('DeadLetter');
      const letter = (stage: string, n: number): ProduceRecord => {
        const value: DeadLetter = { stage, topic: 'mail.outbound.retry.1', partition: 0, offset: n, key: 'example.org', value: Buffer.from('x'), headers: {}, error: 'boom', failedAt: 1 };
        return { topic: 'retry.dlq', key: `example${n}.org`, value: type.toBuffer(value) };
      };
      await o.log.produce([letter('retry-2', 1), letter('retry-1', 2), letter('retry-2', 3)]);
      const dead = async () => {
        const stages = (await o.dashboard.snapshot()).topologies.find((t) => t.name === 'outbound')!.stages;
        return Object.fromEntries(stages.filter((s) => s.deadLetter?.topic === 'retry.dlq').map((s) => [s.stage, [s.deadLetter!.records, s.deadLetter!.topicRecords]]));
      };
      expect(await dead()).toEqual({ 'retry-1': [1, 3], 'retry-2': [2, 3], 'retry-3': [0, 3], 'retry-4': [0, 3], 'retry-5': [0, 3] });
      // Then only what is new is read.
      await o.log.produce([letter('retry-5', 4)]);
      await new Promise((r) => setTimeout(r, 300)); // past the shared read's age
      expect(await dead()).toEqual({ 'retry-1': [1, 4], 'retry-2': [2, 4], 'retry-3': [0, 4], 'retry-4': [0, 4], 'retry-5': [1, 4] });
    } finally {
      await o.close();
    }
  });

  it('answers with the last state read, and why, when the log does not answer in time', async () => {
    let stalled = false;
    const o = await open({ stallLag: () => stalled });
    try {
      const fresh = await o.dashboard.snapshot();
      expect(fresh.logError).toBeNull();
      await new Promise((r) => setTimeout(r, 300)); // past the shared read's age
      stalled = true;
      const started = Date.now();
      const late = await o.dashboard.snapshot();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(late.logError).toMatch(/did not answer within 0.3 s/);
      expect(late.at).toBe(fresh.at);
      expect(late.topologies.flatMap((t) => t.stages).length).toBe(fresh.topologies.flatMap((t) => t.stages).length);
    } finally {
      await o.close();
    }
  });

  it('keeps answering when the log cannot be read: each stage says why, the log engine is red', async () => {
    const o = await open();
    await o.log.close(); // its engine stopped
    try {
      const snapshot = await o.dashboard.snapshot();
      const stages = snapshot.topologies.flatMap((t) => t.stages);
      expect(stages.length).toBe(topologies.reduce((n, t) => n + t.stages.length, 0));
      for (const s of stages) expect(s.error).toMatch(/closed/);
      expect(snapshot.engines.find((e) => e.engine === 'log')).toMatchObject({ kind: 'embedded', ok: false });
      expect(snapshot.engines.find((e) => e.engine === 'store')).toMatchObject({ ok: true });
    } finally {
      await o.close();
    }
  });
});
