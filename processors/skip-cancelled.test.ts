/**
 * skipCancelled over a real embedded log: a record whose position carries a queue mark is
 * filtered, by `process` and inside a batch, and the others reach the wrapped processor in order.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { LogQueueControl } from '../connectors/queue-control.ts';
import type { InputRecord, ProcessorDefinition, Resources } from './processor.ts';
import { skipCancelled } from './skip-cancelled.ts';

const TOPIC = 'mail.outbound.retry.1';

/** A stage that echoes its input's value and counts what it saw. */
const seen: string[] = [];
const echo: ProcessorDefinition<Record<string, never>, string, string> = {
  name: 'echo',
  spec: { description: 'echo', input: 'MailOutbound', output: 'MailOutbound', config: z.object({}) },
  create() {
    return {
      async process(r) {
        seen.push(r.value);
        return [{ key: r.key, value: r.value }];
      },
      async processBatch(records) {
        return records.map((r) => {
          seen.push(r.value);
          return [{ key: r.key, value: r.value }];
        });
      },
    };
  },
};

function input(offset: number): InputRecord<string> {
  return { topic: TOPIC, partition: 0, offset, key: 'd.example', value: `v${offset}`, headers: {}, timestamp: 0 };
}

describe('skipCancelled', () => {
  let dir: string;
  let log: EmbeddedLog;
  let control: LogQueueControl;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-skip-'));
    log = new EmbeddedLog({ path: path.join(dir, 'log.db'), lingerMs: 1 });
    control = new LogQueueControl(log);
  });
  afterAll(async () => {
    await log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const resources = (queue?: LogQueueControl) => ({ logger: pino({ level: 'silent' }), queue }) as unknown as Resources;

  it('passes everything while there are no marks, and without resources.queue', async () => {
    const p = skipCancelled(echo).create({}, resources(control));
    expect(await p.process(input(0))).toEqual([{ key: 'd.example', value: 'v0' }]);
    const plain = skipCancelled(echo).create({}, resources(undefined));
    expect(await plain.processBatch!([input(1), input(2)])).toHaveLength(2);
  });

  it('filters the marked positions, alone and in a batch, and keeps the order of the others', async () => {
    await control.ensureTopic();
    const mark = { outboundId: 'i:d.example', topic: TOPIC, partition: 0, bounce: false, by: 'test', at: 1 };
    // Marks written by another log connection, as `sluice queue` does from its own process.
    const other = new EmbeddedLog({ path: path.join(dir, 'log.db') });
    const writer = new LogQueueControl(other);
    await other.produce([writer.record({ ...mark, action: 'drop', offset: 5 }), writer.record({ ...mark, action: 'retry-now', offset: 7 })]);
    await other.close();
    const p = skipCancelled(echo).create({}, resources(control));
    seen.length = 0;
    expect(await p.process(input(5))).toEqual([]);
    const out = await p.processBatch!([input(4), input(5), input(6), input(7), input(8)]);
    expect(out.map((o) => o.map((r) => r.value))).toEqual([['v4'], [], ['v6'], [], ['v8']]);
    expect(seen).toEqual(['v4', 'v6', 'v8']);
    expect((await control.cancelled({ topic: TOPIC, partition: 0, offset: 7 }))?.action).toBe('retry-now');
    expect(await control.cancelled({ topic: TOPIC, partition: 1, offset: 7 })).toBeUndefined();
  });
});
