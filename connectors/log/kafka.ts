/**
 * The distributed log: the `Log` interface on Apache Kafka 4.x (tests run `ops/engines/kafka.sh`),
 * held to the same contract suite as the embedded log (`conformance.ts`).
 *
 * - produce: an idempotent producer, `acks=all`; the calls of one tick share one request
 *   (kafka/producer.ts). Partitions are chosen here with `partitionFor` (Kafka's murmur2) and
 *   always sent explicitly, so a key lands where it lands on the embedded log.
 * - consume: each consumer is a member of its consumer group (classic protocol, range assignor,
 *   kafka/membership.ts), so the consumers of one group in any number of processes split its
 *   partitions; read_committed fetches with aborted transactions filtered out (kafka/fetch.ts);
 *   commit = one Kafka transaction of the outputs and the group's offsets, fenced by the group's
 *   generation (KIP-447, kafka/consumer.ts).
 * - topics: created from `TopicSpec` (partitions, replication factor, `min.insync.replicas`,
 *   `retention.ms`; no retention = `retention.ms=-1`, kept forever as on the embedded log), never
 *   auto-created. Lag and offsets come from the admin API (ListOffsets, OffsetFetch with
 *   `require_stable`). `enforceRetention` deletes, with DeleteRecords, the prefix of each
 *   partition older than its topic's retention (Kafka also drops whole old segments by itself).
 *
 * Client: @platformatic/kafka 1.35.0, not kafkajs. Both were tried against Kafka 4.1.1 (probe
 * scripts, 2026-12-07). kafkajs 2.2.4 produced, ran a transaction with `sendOffsets` and consumed,
 * but: an OffsetFetch right after a transaction's commit answered offset -1 for the partition the
 * transaction had just committed to 1 (kafkajs cannot ask for `require_stable`, KIP-447, so it
 * reads around a commit still being completed, and `committed()` would lie); it has no explicit
 * partition assignment and no poll, only group membership with a push loop, so `read()` and
 * `poll()` would each need a group join; and it has not been released since 2023. The 1.x line of
 * @platformatic/kafka is the one for Node 20 (2.x needs Node 22); 1.22.0, the last whose
 * dependencies all declare Node 20, has no transactions, so 1.35.0 it is: its dependencies
 * @platformatic/dynamic-buffer and @platformatic/wasm-utils declare Node ≥ 22.19 (npm warns) but
 * are plain JavaScript and WebAssembly that run on Node 20 (this suite runs on 20.20). Its own
 * group consumer does not drop the records of aborted transactions under read_committed, hence
 * the fetch path of our own; a new producer must say so (producer id -1, see NEW_PRODUCER) or a
 * second process could never take over a transactional id; and record headers must be given as
 * a Map of Buffers (a plain object made `send` hang).
 */
import { Admin, Consumer as FetchClient, IncrementalAlterConfigOperationTypes, ListOffsetTimestamps, Producer, createTopicsV7, kGetBootstrapConnection } from '@platformatic/kafka';
import type { Connection } from '@platformatic/kafka';
import type { Consumer, Log, LogRecord, PartitionLag, ProduceRecord, RecordPosition, TopicSpec } from './log.ts';
import { randomUUID } from 'node:crypto';
import { checkHealth, type EngineHealth } from '../health.ts';
import './kafka/pool-guard.ts'; // before any client: a broker gone from the metadata must not crash the process
import { KafkaConsumer } from './kafka/consumer.ts';
import type { KafkaConsumerParts } from './kafka/consumer.ts';
import { DEFAULT_GROUP_TIMINGS } from './kafka/membership.ts';
import type { GroupTimings } from './kafka/membership.ts';
import { OFFSET_OUT_OF_RANGE, fetchFrom } from './kafka/fetch.ts';
import { ProduceQueue, toMessages } from './kafka/producer.ts';
import { TopicDirectory, closeNow, partitionOutOfRange } from './kafka/topics.ts';

export interface KafkaLogOptions {
  /** Bootstrap brokers, `host:port` (e.g. `127.0.0.1:19092`). */
  readonly brokers: readonly string[];
  /** Client id shown in the brokers' logs and metrics; default `sluice`. */
  readonly clientId?: string;
  /** Consumers' transactional ids are `<prefix>.<group>.<random>`; default `sluice`. */
  readonly transactionalIdPrefix?: string;
  /** Per-request timeout (ms), also the produce timeout the brokers wait for acks=all; default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Consumer-group timings: session 10 s, heartbeat 1 s, rebalance 20 s by default (membership.ts). */
  readonly group?: Partial<GroupTimings>;
  /**
   * A transaction left open (its consumer killed) is aborted by the brokers after this long (ms);
   * until then the new owner of its partitions waits for their offsets. Default 10 s.
   */
  readonly transactionTimeoutMs?: number;
}

const TOPIC = 2; // ConfigResourceTypes.TOPIC
/**
 * InitProducerId as a new producer (id -1, epoch -1; KIP-360). The client would send 0/0 by
 * default, which the coordinator takes for a stale epoch of the transactional id once any
 * producer has used it: a restarted stage could then never start a transaction again.
 */
const NEW_PRODUCER = { producerId: -1n, producerEpoch: -1 } as const;
/** CreateTopics answer for a topic made meanwhile (another process's ensureTopics). */
const TOPIC_ALREADY_EXISTS = 36;
/** How long ensureTopics waits for new partitions to have leaders. */
const TOPIC_READY_MS = 30_000;

export class KafkaLog implements Log {
  private readonly admin: Admin;
  private readonly topicDir: TopicDirectory;
  private readonly producer: ProduceQueue;
  private readonly reader: FetchClient;
  private readonly consumers = new Set<KafkaConsumer>();
  private readonly base: { clientId: string; bootstrapBrokers: string[]; timeout: number; retries: number; retryDelay: number };
  private readonly prefix: string;
  private readonly timings: GroupTimings;
  private readonly transactionTimeoutMs: number;
  private closed = false;

  constructor(options: KafkaLogOptions) {
    if (options.brokers.length === 0) throw new Error('KafkaLog needs at least one bootstrap broker');
    this.base = {
      clientId: options.clientId ?? 'sluice',
      bootstrapBrokers: [...options.brokers],
      timeout: options.requestTimeoutMs ?? 30_000,
      retries: 5,
      retryDelay: 250,
    };
    this.prefix = options.transactionalIdPrefix ?? 'sluice';
    this.timings = { ...DEFAULT_GROUP_TIMINGS, ...options.group };
    this.transactionTimeoutMs = options.transactionTimeoutMs ?? 10_000;
    this.admin = new Admin(this.base);
    this.topicDir = new TopicDirectory(this.admin);
    this.producer = new ProduceQueue(() => new Producer({ ...this.base, ...NEW_PRODUCER, idempotent: true, acks: -1, autocreateTopics: false }));
    this.reader = this.newFetchClient();
  }

  /**
   * One CreateTopics request for every missing topic (a topology's first start creates them all
   * at once), growth and config changes of the existing ones, then one wait for every partition
   * to have a leader.
   */
  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    this.assertOpen();
    for (const spec of specs) {
      if (!spec.name || typeof spec.name !== 'string') throw new Error('topic name must be a non-empty string');
      if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
        throw new Error(`topic "${spec.name}": partitions must be a positive integer, got ${spec.partitions}`);
      }
    }
    // A topic named twice (topology files share topics): the later specs apply after the first,
    // as if given in turn (a request may not name a topic twice).
    const seen = new Set<string>();
    const first = specs.filter((spec) => !seen.has(spec.name) && Boolean(seen.add(spec.name)));
    if (first.length < specs.length) {
      await this.ensureTopics(first);
      const later = specs.filter((spec) => !first.includes(spec));
      await this.ensureTopics(later);
      return;
    }
    const configsOf = (spec: TopicSpec) => {
      const configs = [{ name: 'retention.ms', value: String(spec.retentionMs ?? -1) }];
      if (spec.minInsyncReplicas !== undefined) configs.push({ name: 'min.insync.replicas', value: String(spec.minInsyncReplicas) });
      return configs;
    };
    const existing = await Promise.all(specs.map((spec) => this.topicDir.lookup(spec.name)));
    const missing = specs.filter((_, i) => !existing[i]);
    if (missing.length > 0) {
      await this.createTopics(missing.map((spec) => ({
        name: spec.name,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor ?? -1,
        assignments: [],
        configs: configsOf(spec),
      })));
    }
    const present = specs.flatMap((spec, i) => (existing[i] ? [{ spec, info: existing[i] }] : []));
    for (const { spec, info } of present) {
      if (spec.partitions < info.partitions) {
        throw new Error(
          `cannot shrink topic "${spec.name}" from ${info.partitions} to ${spec.partitions} partitions ` +
            '(records are keyed to partitions; partitions may only grow)',
        );
      }
    }
    const grown = present.filter(({ spec, info }) => spec.partitions > info.partitions);
    if (grown.length > 0) {
      await this.admin.createPartitions({ topics: grown.map(({ spec }) => ({ name: spec.name, count: spec.partitions, assignments: null })) });
    }
    if (present.length > 0) {
      await this.admin.incrementalAlterConfigs({
        resources: present.map(({ spec }) => ({
          resourceType: TOPIC,
          resourceName: spec.name,
          configs: configsOf(spec).map((c) => ({ ...c, configOperation: IncrementalAlterConfigOperationTypes.SET })),
        })),
      });
    }
    await this.waitForLeaders(specs);
  }

  async produce(records: readonly ProduceRecord[]): Promise<RecordPosition[]> {
    this.assertOpen();
    if (records.length === 0) return [];
    return this.producer.send(await toMessages(records, this.topicDir));
  }

  async consumer(group: string, topics: readonly string[]): Promise<Consumer> {
    this.assertOpen();
    if (topics.length === 0) throw new Error(`consumer of group "${group}" needs at least one topic`);
    for (const topic of topics) await this.topicDir.get(topic, true);
    const parts: KafkaConsumerParts = {
      admin: this.admin,
      topics: this.topicDir,
      newFetchClient: () => this.newFetchClient(),
      // The client sends its request timeout as the transaction timeout (InitProducerId).
      newTransactionalProducer: (transactionalId) =>
        new Producer({ ...this.base, timeout: this.transactionTimeoutMs, ...NEW_PRODUCER, idempotent: true, acks: -1, transactionalId, autocreateTopics: false }),
      transactionalId: `${this.prefix}.${group}.${randomUUID()}`,
      membership: { base: this.base, timings: this.timings },
      forget: (c) => this.consumers.delete(c),
    };
    const consumer = new KafkaConsumer(parts, group, topics);
    this.consumers.add(consumer);
    await consumer.start();
    return consumer;
  }

  async read(topic: string, partition: number, offset: number, max: number): Promise<LogRecord[]> {
    this.assertOpen();
    let info = await this.topicDir.get(topic);
    if (partition >= info.partitions) info = await this.topicDir.get(topic, true);
    if (!Number.isInteger(partition) || partition < 0 || partition >= info.partitions) {
      throw partitionOutOfRange(topic, partition, info.partitions);
    }
    const out: LogRecord[] = [];
    let position = Math.max(0, offset);
    for (let attempt = 0; out.length < max; ) {
      const leader = info.leaders[partition];
      const fetched = leader === undefined || leader < 0
        ? undefined
        : (await fetchFrom(this.reader, leader, [{ topic, topicId: info.id, partition, offset: position }], { maxWaitMs: 0 }))[0];
      if (fetched?.errorCode === OFFSET_OUT_OF_RANGE) {
        const [start, end] = await this.listOffsets(topic, [partition], ListOffsetTimestamps.EARLIEST, ListOffsetTimestamps.LATEST);
        if (position >= end[0]) break; // past the end: nothing to read
        position = Math.max(position, start[0]);
        continue;
      }
      if (!fetched || fetched.errorCode !== 0) {
        if (++attempt > 20) throw new Error(`cannot read ${topic}[${partition}]: error ${fetched?.errorCode ?? 'no leader'}`);
        await sleep(250);
        info = await this.topicDir.get(topic, true);
        continue;
      }
      out.push(...fetched.records.slice(0, max - out.length));
      if (fetched.next <= position || fetched.next >= fetched.lastStable) break; // nothing more readable now
      position = fetched.next;
    }
    return out;
  }

  async topics(): Promise<TopicSpec[]> {
    this.assertOpen();
    const names = (await this.admin.listTopics({ includeInternals: false })).filter((n) => !n.startsWith('__')).sort();
    if (names.length === 0) return [];
    const described = await this.admin.describeConfigs({
      resources: names.map((name) => ({ resourceType: TOPIC, resourceName: name, configurationKeys: ['retention.ms', 'min.insync.replicas'] })),
    });
    const metadata = await this.admin.metadata({ topics: names, forceUpdate: true });
    const specs: TopicSpec[] = [];
    for (const name of names) {
      const info = metadata.topics.get(name);
      if (!info) continue;
      const configs = described.find((d) => d.resourceName === name)?.configs ?? [];
      const value = (key: string) => configs.find((c) => c.name === key)?.value;
      const retention = Number(value('retention.ms') ?? -1);
      specs.push({
        name,
        partitions: info.partitionsCount,
        retentionMs: retention >= 0 ? retention : undefined,
        replicationFactor: info.partitions[0]?.replicas.length,
        minInsyncReplicas: Number(value('min.insync.replicas') ?? 1),
      });
    }
    return specs;
  }

  async endOffsets(topic: string): Promise<number[]> {
    this.assertOpen();
    const info = await this.topicDir.get(topic, true);
    const [ends] = await this.listOffsets(topic, range(info.partitions), ListOffsetTimestamps.LATEST);
    return ends;
  }

  async committed(group: string, topic: string): Promise<number[]> {
    this.assertOpen();
    const info = await this.topicDir.get(topic, true);
    const [found] = await this.admin.listConsumerGroupOffsets({
      groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: range(info.partitions) }] }],
      requireStable: true,
    });
    const out = range(info.partitions).map(() => 0);
    for (const t of found?.topics ?? []) {
      for (const p of t.partitions) if (p.committedOffset > 0n) out[p.partitionIndex] = Number(p.committedOffset);
    }
    return out;
  }

  /**
   * Records between the group's committed offset and the high-water mark, and the age of the first
   * of them. Kafka's transaction markers take offsets too: when nothing but markers lies after
   * the committed offset, the lag is 0 records (a stage that read everything shows no lag).
   */
  async lag(group: string, topics: readonly string[]): Promise<PartitionLag[]> {
    this.assertOpen();
    const now = Date.now();
    const lags: PartitionLag[] = [];
    for (const topic of topics) {
      const [committed, ends] = await Promise.all([this.committed(group, topic), this.endOffsets(topic)]);
      for (let partition = 0; partition < ends.length; partition++) {
        const [c, end] = [committed[partition], ends[partition]];
        let records = Math.max(0, end - c);
        let seconds = 0;
        if (records > 0) {
          const [first] = await this.read(topic, partition, c, 1);
          if (first) seconds = Math.max(0, now - first.timestamp) / 1000;
          else records = 0;
        }
        lags.push({ group, topic, partition, committed: c, end, records, seconds });
      }
    }
    return lags;
  }

  async enforceRetention(now: number = Date.now()): Promise<number> {
    this.assertOpen();
    let deleted = 0;
    for (const spec of await this.topics()) {
      if (spec.retentionMs === undefined) continue;
      const partitions = range(spec.partitions);
      const [starts, ends, firstKept] = await this.listOffsets(
        spec.name,
        partitions,
        ListOffsetTimestamps.EARLIEST,
        ListOffsetTimestamps.LATEST,
        BigInt(Math.trunc(now - spec.retentionMs)),
      );
      const cut = partitions
        .map((p) => ({ partition: p, offset: firstKept[p] < 0 ? ends[p] : firstKept[p] }))
        .filter((c) => c.offset > starts[c.partition]);
      if (cut.length === 0) continue;
      await this.admin.deleteRecords({ topics: [{ name: spec.name, partitions: cut.map((c) => ({ partition: c.partition, offset: BigInt(c.offset) })) }] });
      for (const c of cut) deleted += c.offset - starts[c.partition];
    }
    return deleted;
  }

  /** Cluster metadata fetched anew from a broker (no topics): the brokers it knows. */
  health(): Promise<EngineHealth> {
    return checkHealth('kafka', async () => {
      this.assertOpen();
      const metadata = await this.admin.metadata({ topics: [], forceUpdate: true });
      const brokers = metadata.brokers.size;
      return `${brokers} broker${brokers === 1 ? '' : 's'}`;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.close()));
    await this.producer.close();
    await Promise.all([closeNow(this.reader), this.admin.close().catch(() => undefined)]);
  }

  /** ListOffsets of `partitions` for each timestamp (LATEST, EARLIEST or a time): one array per timestamp, -1 = none. */
  private async listOffsets(topic: string, partitions: readonly number[], ...timestamps: bigint[]): Promise<number[][]> {
    return Promise.all(
      timestamps.map(async (timestamp) => {
        const [listed] = await this.admin.listOffsets({
          topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }],
        });
        const out = partitions.map(() => -1);
        for (const p of listed?.partitions ?? []) out[partitions.indexOf(p.partitionIndex)] = Number(p.offset);
        return out;
      }),
    );
  }

  /** CreateTopics for all of `topics` in one request; a topic that exists meanwhile is fine. */
  private async createTopics(topics: createTopicsV7.CreateTopicsRequestTopic[]): Promise<void> {
    const connection = await new Promise<Connection>((resolve, reject) =>
      this.admin[kGetBootstrapConnection]((error, c) => (error || !c ? reject(error ?? new Error('no broker connection')) : resolve(c))),
    );
    let response: createTopicsV7.CreateTopicsResponse;
    try {
      response = await createTopicsV7.api.async(connection, topics, this.base.timeout, false);
    } catch (err) {
      // Per-topic errors come as an error carrying the whole parsed response.
      const carried = (err as { response?: createTopicsV7.CreateTopicsResponse }).response;
      if (!carried?.topics) throw err;
      response = carried;
    }
    const failed = response.topics.filter((t) => t.errorCode !== 0 && t.errorCode !== TOPIC_ALREADY_EXISTS);
    if (failed.length > 0) {
      throw new Error(`cannot create topics: ${failed.map((t) => `"${t.name}": error ${t.errorCode}${t.errorMessage ? ` (${t.errorMessage})` : ''}`).join('; ')}`);
    }
  }

  private async waitForLeaders(specs: readonly TopicSpec[]): Promise<void> {
    const deadline = Date.now() + TOPIC_READY_MS;
    let waiting = [...specs];
    for (;;) {
      const ready = await Promise.all(waiting.map(async (spec) => {
        const info = await this.topicDir.lookup(spec.name);
        return info !== undefined && info.partitions >= spec.partitions && info.leaders.every((l) => l >= 0);
      }));
      waiting = waiting.filter((_, i) => !ready[i]);
      if (waiting.length === 0) return;
      if (Date.now() > deadline) throw new Error(`topics ${waiting.map((s) => `"${s.name}"`).join(', ')}: partitions without a leader after ${TOPIC_READY_MS} ms`);
      await sleep(100);
    }
  }

  private newFetchClient(): FetchClient {
    return new FetchClient({ ...this.base, groupId: `${this.prefix}.reader` });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the Kafka log is closed');
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
