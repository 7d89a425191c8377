/**
 * The runner when a commit is refused by a rebalance (`RebalanceError`: the stage's partitions
 * moved to another process of its consumer group): the batch is discarded, the consumer rewinds
 * and the stage goes on at once; no dead letter, no retry counted, nothing lost or doubled. Real
 * embedded log; its consumer's commit refuses the first batch as a Kafka member's would after a
 * rebalance. (The rebalance itself, on Kafka, is in connectors/log/kafka.group.distributed.test.ts.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { RebalanceError, type Consumer, type Log } from '../connectors/log/log.ts';
import { loadTopology } from './loader.ts';
import { TopologyRunner, type RunnerMetrics } from './runner.ts';
import { PROCESSORS } from '../processors/index.ts';
import { schemaType } from '../schemas/registry.ts';
import type { MailOutbound } from '../schemas/types.ts';
import { openTestResources, type TestResources } from '../processors/test-resources.ts';
import { outboundRecord } from '../processors/outbound/test-outbound.ts';

const YAML = `
name: rebalance-test
topics:
  queue:
    schema: MailOutbound
    key: domain
    partitions: 2
    source: external
  ready:
    schema: MailOutbound
    key: domain
    partitions: 2
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

const queued = (id: string, domain: string): MailOutbound => outboundRecord(id, domain);

let dir: string;
let log: EmbeddedLog;
let res: TestResources;
let runner: TopologyRunner | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-rebalance-'));
  fs.writeFileSync(path.join(dir, 'rebalance.yaml'), YAML);
  log = new EmbeddedLog({ path: path.join(dir, 'log.db') });
  res = openTestResources();
});
afterEach(async () => {
  await runner?.stop();
  await log.close();
  await res.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The log, whose consumers refuse their first `refusals` commits as after a rebalance. */
function rebalancing(inner: Log, refusals: number): Log {
  return Object.assign(Object.create(inner) as Log, {
    consumer: async (group: string, topics: readonly string[]): Promise<Consumer> => {
      const c = await inner.consumer(group, topics);
      const commit = c.commit.bind(c);
      c.commit = (outputs, offsets) => {
        if (refusals-- > 0) return Promise.reject(new RebalanceError('the group rebalanced since these records were read'));
        return commit(outputs, offsets);
      };
      return c;
    },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runner: a commit refused by a rebalance', () => {
  it('rewinds and goes on quietly: every record once downstream, no dead letter, no retry counted', async () => {
    await log.ensureTopics([{ name: 'queue', partitions: 2 }, { name: 'ready', partitions: 2 }, { name: 'copy.dlq', partitions: 1 }]);
    const ids = Array.from({ length: 20 }, (_, i) => `m${i}`);
    await log.produce(ids.map((id, i) => ({ topic: 'queue', key: `d${i % 5}.test`, value: type.toBuffer(queued(id, `d${i % 5}.test`)) })));
    const calls: string[] = [];
    const metrics: RunnerMetrics = {
      processed: () => undefined,
      deadLettered: () => calls.push('deadLettered'),
      batchSeconds: () => undefined,
      sinceReceived: () => undefined,
      retried: () => calls.push('retried'),
      rebalanced: () => calls.push('rebalanced'),
    };
    const topology = loadTopology(path.join(dir, 'rebalance.yaml'), PROCESSORS);
    runner = new TopologyRunner({
      log: rebalancing(log, 2), topologies: [topology], processors: PROCESSORS, resources: res,
      logger: pino({ level: 'silent' }), pollTimeoutMs: 20, batchSize: 8,
      // A backoff would show as a stall: the test's time is far below it.
      retryBackoffMs: { first: 60_000, max: 60_000 },
      metrics,
    });
    const started = Date.now();
    await runner.start();
    while (Date.now() - started < 5_000 && (await log.committed('rebalance-test.copy', 'queue')).reduce((a, b) => a + b, 0) < ids.length) await sleep(20);

    const out: string[] = [];
    for (let p = 0; p < 2; p++) for (const r of await log.read('ready', p, 0, 100)) out.push((type.fromBuffer(r.value) as MailOutbound).outboundId);
    expect(out.sort()).toEqual([...ids].sort());
    expect(calls).toEqual(['rebalanced', 'rebalanced']);
    expect(await log.endOffsets('copy.dlq')).toEqual([0]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
