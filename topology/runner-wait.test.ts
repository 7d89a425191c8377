/**
 * The runner's `waitUntil` (the retry topics of outbound.yaml): a record is processed only once
 * the clock reaches its field; the first record of a partition that is not due holds that
 * partition and no other; the wait is a poll timeout, not a spin. Real embedded log, manual clock.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { partitionFor, type Consumer, type Log } from '../connectors/log/log.ts';
import { loadTopology } from './loader.ts';
import { TopologyRunner } from './runner.ts';
import { PROCESSORS } from '../processors/index.ts';
import { schemaType } from '../schemas/registry.ts';
import type { MailOutbound } from '../schemas/types.ts';
import { openTestResources, type TestResources } from '../processors/test-resources.ts';
import { outboundRecord } from '../processors/outbound/test-outbound.ts';

const YAML = `
name: wait-test
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
stages:
  - name: wait
    processor: release
    from: queue
    to: ready
    waitUntil: notBefore
`;

const type = schemaType('MailOutbound');

const queued = (id: string, domain: string, notBefore: number): MailOutbound => outboundRecord(id, domain, notBefore);

/** Two domains in different partitions of 2. */
function twoDomains(): [string, string] {
  const a = 'a.test';
  for (let i = 0; ; i++) if (partitionFor(`b${i}.test`, 2) !== partitionFor(a, 2)) return [a, `b${i}.test`];
}

let dir: string;
let log: EmbeddedLog;
let res: TestResources;
let runner: TopologyRunner | undefined;
let now: number;
let polls: number;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-wait-'));
  fs.writeFileSync(path.join(dir, 'wait.yaml'), YAML);
  log = new EmbeddedLog({ path: path.join(dir, 'log.db') });
  res = openTestResources();
  now = 1_000;
  polls = 0;
});
afterEach(async () => {
  await runner?.stop();
  await log.close();
  await res.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The log, with the consumers' polls counted. */
function counting(inner: Log): Log {
  return Object.assign(Object.create(inner) as Log, {
    consumer: async (group: string, topics: readonly string[]): Promise<Consumer> => {
      const c = await inner.consumer(group, topics);
      const poll = c.poll.bind(c);
      c.poll = (max, timeout) => {
        polls++;
        return poll(max, timeout);
      };
      return c;
    },
  });
}

async function start(): Promise<void> {
  const topology = loadTopology(path.join(dir, 'wait.yaml'), PROCESSORS);
  runner = new TopologyRunner({ log: counting(log), topologies: [topology], processors: PROCESSORS, resources: { ...res, now: () => now }, logger: pino({ level: 'silent' }), pollTimeoutMs: 20 });
  await runner.start();
}

async function released(): Promise<string[]> {
  const out: string[] = [];
  for (let p = 0; p < 2; p++) for (const r of await log.read('ready', p, 0, 100)) out.push((type.fromBuffer(r.value) as MailOutbound).outboundId);
  return out.sort();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runner: waitUntil', () => {
  it('holds a partition at its first record not due, lets the other partition flow, releases when the clock comes', async () => {
    const [a, b] = twoDomains();
    await log.ensureTopics([{ name: 'queue', partitions: 2 }, { name: 'ready', partitions: 2 }]);
    await log.produce([
      { topic: 'queue', key: a, value: type.toBuffer(queued('a1', a, 5_000)) },
      { topic: 'queue', key: a, value: type.toBuffer(queued('a2', a, 2_000)) }, // due earlier, but behind a1
      { topic: 'queue', key: b, value: type.toBuffer(queued('b1', b, 0)) },
      { topic: 'queue', key: b, value: type.toBuffer(queued('b2', b, 1_000)) },
    ]);
    await start();
    await sleep(300);
    expect(await released()).toEqual(['b1', 'b2']);
    // Waiting is polling at the poll timeout (20 ms here), not spinning.
    expect(polls).toBeLessThan(60);

    // A new due record on the other partition is not held up by the held one.
    await log.produce([{ topic: 'queue', key: b, value: type.toBuffer(queued('b3', b, 500)) }]);
    await sleep(200);
    expect(await released()).toEqual(['b1', 'b2', 'b3']);

    now = 2_500; // a2 is due, but a1 (first in its partition) is not
    await sleep(200);
    expect(await released()).toEqual(['b1', 'b2', 'b3']);

    now = 5_000;
    await sleep(300);
    expect(await released()).toEqual(['a1', 'a2', 'b1', 'b2', 'b3']);
    expect(await log.committed('wait-test.wait', 'queue')).toEqual(await log.endOffsets('queue'));
  });

  it('a held record survives a restart: nothing is committed past it', async () => {
    const [a] = twoDomains();
    await log.ensureTopics([{ name: 'queue', partitions: 2 }, { name: 'ready', partitions: 2 }]);
    await log.produce([{ topic: 'queue', key: a, value: type.toBuffer(queued('a1', a, 9_000)) }]);
    await start();
    await sleep(150);
    await runner!.stop();
    runner = undefined;
    expect(await released()).toEqual([]);
    now = 9_000;
    await start();
    await sleep(300);
    expect(await released()).toEqual(['a1']);
  });
});
