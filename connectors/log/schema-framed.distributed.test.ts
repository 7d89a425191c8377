/**
 * The schema-framed log on the real engines `ops/stack up` starts: Kafka (127.0.0.1:19092,
 * SLUICE_KAFKA_BROKERS) and Apicurio Registry's Confluent API (127.0.0.1:19081,
 * SLUICE_REGISTRY_URL). Every test has its own topic prefix, so its subjects are its own too.
 * No engine answering fails the run: it never skips.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import avro from 'avsc';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { runLogConformance } from './conformance.ts';
import { KafkaLog } from './kafka.ts';
import type { Log, LogRecord, TopicSpec } from './log.ts';
import { PrefixedLog } from './prefixed.ts';
import { registeredSchema, SchemaFramedLog, SchemaResolutionError } from './schema-framed.ts';
import { ConfluentRegistryClient, SchemaNotFoundError } from './schemas/registry-client.ts';
import { frame, FrameError, HEADER_BYTES } from './schemas/confluent-wire.ts';
import { topicSchemas } from '../../ops/open-engines.ts';
import { loadTopologies, loadTopology } from '../../topology/loader.ts';
import { PROCESSORS } from '../../processors/index.ts';
import { TopologyRunner } from '../../topology/runner.ts';
import { openTestResources, type TestResources } from '../../processors/test-resources.ts';
import { schemaType } from '../../schemas/registry.ts';
import type { DeadLetter, MailOutbound } from '../../schemas/types.ts';
import { PROJECT_ROOT } from '../../ops/config.ts';
import { outboundRecord } from '../../processors/outbound/test-outbound.ts';

const brokers = (process.env.SLUICE_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',').map((b) => b.trim()).filter(Boolean);
const registryUrl = process.env.SLUICE_REGISTRY_URL ?? 'http://127.0.0.1:19081/apis/ccompat/v7';
const registry = new ConfluentRegistryClient({ url: registryUrl });
const unique = (name: string) => `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}.`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const kafkas: KafkaLog[] = [];
function kafka(prefix: string): Log {
  const log = new KafkaLog({ brokers, clientId: 'sluice-schema-test' });
  kafkas.push(log);
  return new PrefixedLog(log, prefix);
}
afterEach(async () => {
  for (const log of kafkas.splice(0)) await log.close().catch(() => undefined);
});

// The Log contract holds through the framing. The suite writes opaque bytes to topics it names
// as it goes: here every topic's schema is `bytes`, registered when the suite creates the topic.
runLogConformance('schema-framed (over kafka)', async () => {
  const prefix = unique('conf');
  const topics = new Map<string, avro.Type>();
  const open = async (): Promise<Log> => {
    const framed = await SchemaFramedLog.open({ inner: kafka(prefix), topics, registry, subjectPrefix: prefix });
    return Object.assign(Object.create(framed) as Log, {
      ensureTopics: async (specs: readonly TopicSpec[]) => {
        for (const spec of specs) if (!topics.has(spec.name)) topics.set(spec.name, avro.Type.forSchema('bytes'));
        for (const spec of specs) await framed.register(spec.name);
        return framed.ensureTopics(specs);
      },
    });
  };
  return { log: await open(), reopen: open, cleanup: async () => undefined };
});

describe('SchemaFramedLog on Kafka and Apicurio Registry', () => {
  it('registers the schema of every topic of the topology files at start, compatibility BACKWARD', async () => {
    const prefix = unique('reg');
    const topics = topicSchemas(loadTopologies(path.join(PROJECT_ROOT, 'topology'), PROCESSORS));
    expect(topics.size).toBeGreaterThan(20);
    const started = performance.now();
    const log = await SchemaFramedLog.open({ inner: kafka(prefix), topics, registry, subjectPrefix: prefix });
    const ms = performance.now() - started;
    // Each subject asked for by name: the registry's GET /subjects lists at most 999 (Apicurio
    // 2.4), and the shared registry holds more than that once many runs have used it.
    for (const topic of topics.keys()) {
      const versions = await fetch(`${registryUrl}/subjects/${encodeURIComponent(`${prefix}${topic}-value`)}/versions`);
      expect({ topic, status: versions.status, versions: (await versions.json()) as unknown }).toEqual({ topic, status: 200, versions: [1] });
    }
    for (const [topic, type] of topics) {
      // The id the log frames with names, in the registry, exactly the schema of the topic.
      expect(JSON.parse(await registry.schema(log.schemaId(topic)))).toEqual(JSON.parse(registeredSchema(type)));
    }
    const config = (await (await fetch(`${registryUrl}/config/${encodeURIComponent(`${prefix}mail.received-value`)}`)).json()) as { compatibilityLevel?: string };
    expect(config.compatibilityLevel).toBe('BACKWARD');
    console.log(`registered ${topics.size} subjects in ${ms.toFixed(0)} ms`);
  });

  it('opens in four processes at once on the same subjects: none fails, all frame with the one id of each schema', async () => {
    // Role processes start together on a new prefix: the registry sees the same new subjects
    // registered and their first compatibility rule set by all of them at once. (Apicurio 2.4
    // may then keep the same schema as two versions of a subject, under the same id.)
    const prefix = unique('race');
    const topics = topicSchemas(loadTopologies(path.join(PROJECT_ROOT, 'topology'), PROCESSORS));
    const logs = await Promise.all(
      [1, 2, 3, 4].map(() => SchemaFramedLog.open({ inner: kafka(prefix), topics, registry: new ConfluentRegistryClient({ url: registryUrl }), subjectPrefix: prefix })),
    );
    for (const [topic, type] of topics) {
      const ids = new Set(logs.map((log) => log.schemaId(topic)));
      expect({ topic, ids: ids.size }).toEqual({ topic, ids: 1 });
      const subject = `${registryUrl}/subjects/${encodeURIComponent(`${prefix}${topic}-value`)}`;
      const versions = (await (await fetch(`${subject}/versions`)).json()) as number[];
      expect(versions.length).toBeGreaterThan(0);
      for (const version of versions) {
        const registered = (await (await fetch(`${subject}/versions/${version}`)).json()) as { id: number; schema: string };
        expect({ topic, version, id: registered.id }).toEqual({ topic, version, id: [...ids][0] });
        expect(JSON.parse(registered.schema)).toEqual(JSON.parse(registeredSchema(type)));
      }
    }
  });

  it('frames each value with its schema id on Kafka and reads it back unframed', async () => {
    const prefix = unique('frame');
    const type = schemaType('MailOutbound');
    const inner = kafka(prefix);
    const log = await SchemaFramedLog.open({ inner, topics: new Map([['mail.outbound', type]]), registry, subjectPrefix: prefix });
    await log.ensureTopics([{ name: 'mail.outbound', partitions: 1 }]);
    const value = type.toBuffer(queued('o1', 0));
    await log.produce([{ topic: 'mail.outbound', key: 'example.test', value }]);

    const [raw] = await inner.read('mail.outbound', 0, 0, 1);
    expect(raw.value[0]).toBe(0x00);
    expect(raw.value.readInt32BE(1)).toBe(log.schemaId('mail.outbound'));
    expect(raw.value.subarray(HEADER_BYTES).equals(value)).toBe(true);

    const [read] = await log.read('mail.outbound', 0, 0, 1);
    expect(read.error).toBeUndefined();
    expect(read.value.equals(value)).toBe(true);
    const consumer = await log.consumer('reader', ['mail.outbound']);
    try {
      const [polled] = await poll(consumer.poll.bind(consumer), 1);
      expect((type.fromBuffer(polled.value) as MailOutbound).outboundId).toBe('o1');
      // A consumer's outputs are framed too.
      await consumer.commit([{ topic: 'mail.outbound', key: 'example.test', value: type.toBuffer(queued('o2', 0)) }], [{ topic: 'mail.outbound', partition: 0, offset: 1 }]);
    } finally {
      await consumer.close();
    }
    const [, second] = await inner.read('mail.outbound', 0, 0, 2);
    expect(second.value.readInt32BE(1)).toBe(log.schemaId('mail.outbound'));
  });

  it('reads a record written with an older version of the schema as the current one, and refuses an incompatible version at start', async () => {
    const prefix = unique('evolve');
    const v1 = avro.Type.forSchema({ type: 'record', name: 'Evolving', namespace: 'sluice.test', fields: [{ name: 'id', type: 'string' }] });
    const v2 = avro.Type.forSchema({
      type: 'record', name: 'Evolving', namespace: 'sluice.test',
      fields: [{ name: 'id', type: 'string' }, { name: 'tries', type: 'int', default: 7 }],
    });
    const old = await SchemaFramedLog.open({ inner: kafka(prefix), topics: new Map([['evolving', v1]]), registry, subjectPrefix: prefix });
    await old.ensureTopics([{ name: 'evolving', partitions: 1 }]);
    await old.produce([{ topic: 'evolving', key: 'k', value: v1.toBuffer({ id: 'written-by-v1' }) }]);

    const current = await SchemaFramedLog.open({ inner: kafka(prefix), topics: new Map([['evolving', v2]]), registry, subjectPrefix: prefix });
    expect(current.schemaId('evolving')).not.toBe(old.schemaId('evolving'));
    await current.produce([{ topic: 'evolving', key: 'k', value: v2.toBuffer({ id: 'written-by-v2', tries: 2 }) }]);
    const records = await current.read('evolving', 0, 0, 2);
    expect(records.map((r) => r.error)).toEqual([undefined, undefined]);
    expect(records.map((r) => v2.fromBuffer(r.value) as unknown)).toEqual([{ id: 'written-by-v1', tries: 7 }, { id: 'written-by-v2', tries: 2 }]);

    // A version the current readers could not read (a new field without a default): refused at start.
    const v3 = avro.Type.forSchema({
      type: 'record', name: 'Evolving', namespace: 'sluice.test',
      fields: [{ name: 'id', type: 'string' }, { name: 'tries', type: 'int', default: 7 }, { name: 'owner', type: 'string' }],
    });
    await expect(SchemaFramedLog.open({ inner: kafka(prefix), topics: new Map([['evolving', v3]]), registry, subjectPrefix: prefix })).rejects.toThrow(/409/);
  });

  it('gives a record it cannot read an error instead of a value: no frame, an unknown id, a writer it cannot resolve', async () => {
    const prefix = unique('bad');
    const type = schemaType('MailOutbound');
    const inner = kafka(prefix);
    const log = await SchemaFramedLog.open({ inner, topics: new Map([['mail.outbound', type]]), registry, subjectPrefix: prefix });
    await log.ensureTopics([{ name: 'mail.outbound', partitions: 1 }]);
    const other = avro.Type.forSchema({ type: 'record', name: 'Unrelated', fields: [{ name: 'n', type: 'int' }] });
    const otherId = await registry.register(`${prefix}unrelated-value`, registeredSchema(other));
    const rawAvro = type.toBuffer(queued('raw', 0));
    await inner.produce([
      { topic: 'mail.outbound', key: 'a', value: rawAvro }, // raw Avro, as before framing
      { topic: 'mail.outbound', key: 'a', value: frame(2_000_000_000, rawAvro) }, // an id the registry does not have
      { topic: 'mail.outbound', key: 'a', value: frame(otherId, other.toBuffer({ n: 1 })) }, // a schema MailOutbound cannot resolve
    ]);
    const records = await log.read('mail.outbound', 0, 0, 3);
    expect(records[0].error).toBeInstanceOf(FrameError);
    expect(records[0].value.equals(rawAvro)).toBe(true); // the bytes as stored: nothing lost
    expect(records[1].error).toBeInstanceOf(SchemaNotFoundError);
    expect(records[2].error).toBeInstanceOf(SchemaResolutionError);
  });

  describe('with the runner', () => {
    let dir: string;
    let res: TestResources;
    let runner: TopologyRunner | undefined;
    afterEach(async () => {
      await runner?.stop();
      await res.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('dead-letters a record without a frame and passes the others on', async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-framed-'));
      res = openTestResources();
      fs.writeFileSync(path.join(dir, 't.yaml'), TOPOLOGY);
      const topology = loadTopology(path.join(dir, 't.yaml'), PROCESSORS);
      const prefix = unique('dlq');
      const inner = kafka(prefix);
      const log = await SchemaFramedLog.open({ inner, topics: topicSchemas([topology]), registry, subjectPrefix: prefix });
      await log.ensureTopics([...topology.topics.values()].map((t) => ({ name: t.name, partitions: t.partitions })));
      const type = schemaType('MailOutbound');
      await inner.produce([{ topic: 'queue', key: 'a.test', value: type.toBuffer(queued('unframed', 0)) }]);
      await log.produce([{ topic: 'queue', key: 'a.test', value: type.toBuffer(queued('framed', 0)) }]);

      runner = new TopologyRunner({ log, topologies: [topology], processors: PROCESSORS, resources: res, logger: pino({ level: 'silent' }), pollTimeoutMs: 100 });
      await runner.start();
      const [letter] = await poll((max) => log.read('queue.dlq', 0, 0, max), 1);
      const [ready] = await poll((max) => log.read('ready', 0, 0, max), 1);
      expect((type.fromBuffer(ready.value) as MailOutbound).outboundId).toBe('framed');
      const dead = schemaType('DeadLetter').fromBuffer(letter.value) as DeadLetter;
      expect(dead).toMatchObject({ stage: 'wait', topic: 'queue', partition: 0, offset: 0 });
      expect(dead.error).toMatch(/FrameError: value starts with 0x.., not the schema frame's magic byte 0x00/);
      expect((type.fromBuffer(dead.value) as MailOutbound).outboundId).toBe('unframed'); // kept whole, for replay
      // The dead letter itself is framed on Kafka.
      const [rawLetter] = await inner.read('queue.dlq', 0, 0, 1);
      expect(rawLetter.value.readInt32BE(1)).toBe(log.schemaId('queue.dlq'));
      await sleep(300);
      expect(await inner.committed('framed.wait', 'queue')).toEqual([2]);
    });
  });
});

const TOPOLOGY = `
name: framed
topics:
  queue:
    schema: MailOutbound
    key: domain
    partitions: 1
    source: external
  ready:
    schema: MailOutbound
    key: domain
    partitions: 1
    sink: external
  queue.dlq:
    schema: DeadLetter
    key: domain
    partitions: 1
    sink: external
stages:
  - name: wait
    processor: release
    from: queue
    to: ready
    waitUntil: notBefore
    deadLetter: queue.dlq
`;

const queued = (id: string, notBefore: number): MailOutbound => outboundRecord(id, 'a.test', notBefore);

/** Calls `read` until it has `n` records (Kafka commits and group joins take a moment). */
async function poll(read: (max: number, timeoutMs: number) => Promise<LogRecord[]>, n: number): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  const deadline = Date.now() + 60_000;
  while (out.length < n && Date.now() < deadline) {
    const got = await read(n - out.length, 500);
    if (got.length === 0) await sleep(200);
    // `read` from offset 0 returns the same records again: keep the first n.
    out.push(...got);
  }
  expect(out.length, 'records within 60 s').toBeGreaterThanOrEqual(n);
  return out.slice(0, n);
}
