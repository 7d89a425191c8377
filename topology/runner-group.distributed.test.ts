/**
 * Two runners of one topology on Kafka (two clients, as two `stages` processes would be) share
 * a stage's partitions as one consumer group; when one stops, the other takes its partitions over
 * and the stage's lag drains, with every input passed on exactly once and nothing dead-lettered.
 * Names carry a prefix of their own on the shared broker (SLUICE_KAFKA_BROKERS overrides it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaLog } from '../connectors/log/kafka.ts';
import { PrefixedLog } from '../connectors/log/prefixed.ts';
import { loadTopology } from './loader.ts';
import { TopologyRunner, type RunnerMetrics } from './runner.ts';
import { PROCESSORS } from '../processors/index.ts';
import { schemaType } from '../schemas/registry.ts';
import type { MailOutbound } from '../schemas/types.ts';
import { openTestResources, type TestResources } from '../processors/test-resources.ts';
import { outboundRecord } from '../processors/outbound/test-outbound.ts';

const brokers = (process.env.SLUICE_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',').map((b) => b.trim()).filter(Boolean);

const YAML = `
name: shared
topics:
  queue:
    schema: MailOutbound
    key: domain
    partitions: 4
    source: external
  ready:
    schema: MailOutbound
    key: domain
    partitions: 4
    sink: external
  copy.dlq:
    schema: DeadLetter
    key: domain
    partitions: 1
    sink: external
stages:
  - name: copy
    processor: release
    from: queue
    to: ready
    deadLetter: copy.dlq
`;

const type = schemaType('MailOutbound');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const queued = (id: string, domain: string): MailOutbound => outboundRecord(id, domain);

interface Counted extends RunnerMetrics {
  owned: number;
  retries: number;
  rebalances: number;
}

function counted(): Counted {
  const m: Counted = {
    owned: -1, retries: 0, rebalances: 0,
    processed: () => undefined, deadLettered: () => undefined, batchSeconds: () => undefined, sinceReceived: () => undefined,
    retried: () => void m.retries++,
    ownedPartitions: (_stage, n) => void (m.owned = n),
    rebalanced: () => void m.rebalances++,
  };
  return m;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

describe('runner on Kafka: two processes share a stage', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });

  it('splits the partitions; when one stops, the other takes them over, the lag drains, every input once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-runner-group-'));
    closers.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'shared.yaml'), YAML);
    const topology = loadTopology(path.join(dir, 'shared.yaml'), PROCESSORS);
    const prefix = `rg-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}.`;
    const res: TestResources = openTestResources();
    closers.push(() => res.close());
    const stagesProcess = () => {
      const kafka = new KafkaLog({ brokers, clientId: 'sluice-runner-group-test' });
      closers.push(() => kafka.close());
      const log = new PrefixedLog(kafka, prefix);
      const metrics = counted();
      const runner = new TopologyRunner({ log, topologies: [topology], processors: PROCESSORS, resources: res, logger: pino({ level: 'silent' }), pollTimeoutMs: 200, metrics });
      closers.push(() => runner.stop());
      return { log, runner, metrics };
    };
    const a = stagesProcess();
    const b = stagesProcess();
    await a.runner.start();
    await b.runner.start();

    let produced = 0;
    let producing = true;
    const producer = (async () => {
      while (producing) {
        const batch = Array.from({ length: 20 }, () => {
          const id = `m${produced++}`;
          const domain = `d${produced % 13}.test`;
          return { topic: 'queue', key: domain, value: type.toBuffer(queued(id, domain)) };
        });
        await a.log.produce(batch);
        await sleep(20);
      }
    })();
    await until('each runner to own two partitions', () => a.metrics.owned === 2 && b.metrics.owned === 2, 30_000);
    await sleep(1_000);

    const stopping = Date.now();
    await a.runner.stop();
    await until('the other runner to own all four', () => b.metrics.owned === 4, 15_000);
    const takeoverMs = Date.now() - stopping;
    await sleep(500);
    producing = false;
    await producer;

    const group = 'shared.copy';
    await until('the lag to drain', async () => (await b.log.lag(group, ['queue'])).every((l) => l.records === 0), 60_000);
    const out: string[] = [];
    for (let p = 0; p < 4; p++) for (const r of await b.log.read('ready', p, 0, 100_000)) out.push((type.fromBuffer(r.value) as MailOutbound).outboundId);
    console.log(`runner stop → takeover: ${takeoverMs} ms; ${produced} records; rebalances seen by the survivor: ${b.metrics.rebalances}`);
    expect(out.length).toBe(produced);
    expect(new Set(out).size).toBe(produced);
    expect(await b.log.endOffsets('copy.dlq')).toEqual([0]);
    expect(b.metrics.retries).toBe(0);
  }, 180_000);
});
