/**
 * The generic runner: executes every stage of the given topologies over the Log interface.
 *
 * Per stage, one consumer in the group `<topology>.<stage>` polls its input topic in batches;
 * each record is decoded with the topic's Avro schema and handed to the processor; the
 * outputs (encoded with their topics' schemas) and the input offsets are committed in one
 * atomic log transaction (exactly-once consume→transform→produce). A record the processor
 * rejects goes, with the error, to the stage's dead-letter topic in that same transaction, so
 * the partition keeps flowing; a `RetryableError` instead stops the batch, rewinds, and retries
 * with a growing delay. Headers of the input are carried to the outputs (e.g. `received-at`,
 * from which the end-to-end latency to each stage is measured).
 *
 * On Kafka, the stage's consumers in every process running it are one consumer group and split
 * its partitions; a commit refused because the group rebalanced (`RebalanceError`) is not a
 * failure: the batch is discarded, the consumer rewinds, and the loop goes on at once.
 *
 * A stage with `waitUntil: FIELD` (the retry topics of outbound.yaml) processes a record only
 * once `resources.now()` has reached its FIELD: the first record of a partition that is not due
 * holds that partition (`Consumer.pauseAt`) until then, while the stage's other partitions go
 * on; the loop's poll wait is cut to the earliest due time, so nothing spins and nothing waits
 * longer than needed (with a manual clock, a hold is looked at again every poll timeout).
 */
import type { Logger } from 'pino';
import type { Consumer, Log, LogRecord, ProduceRecord, CommitOffset, TopicSpec } from '../connectors/log/log.ts';
import type { InputRecord, OutputRecord, Processor, ProcessorDefinition, Resources } from '../processors/processor.ts';
import { RebalanceError } from '../connectors/log/log.ts';
import { RetryableError } from '../processors/processor.ts';
import type { Topology, StageDecl } from './model.ts';
import { schemaType, type AvroType } from '../schemas/registry.ts';
import type { DeadLetter } from '../schemas/types.ts';

export interface RunnerMetrics {
  processed(stage: string, records: number): void;
  deadLettered(stage: string, records: number): void;
  batchSeconds(stage: string, seconds: number): void;
  /** Seconds from the record's `received-at` header (ingress 250) to the end of this stage. */
  sinceReceived(stage: string, seconds: number): void;
  retried(stage: string): void;
  /** Partitions of its input this process's consumer of the stage reads now (its share of the group). */
  ownedPartitions?(stage: string, partitions: number): void;
  /** A batch thrown away because its partitions moved to another member (a rebalance): not a failure. */
  rebalanced?(stage: string): void;
}

export interface RunnerOptions {
  log: Log;
  topologies: readonly Topology[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the registry holds definitions of every record type
  processors: ReadonlyMap<string, ProcessorDefinition<any, any, any>>;
  resources: Resources;
  logger: Logger;
  batchSize?: number;
  pollTimeoutMs?: number;
  /**
   * After a poll that found fewer than `batchSize` records, wait this long (ms) and take what
   * arrived meanwhile into the same batch: one commit (one fsync) covers more records, for a
   * bounded added latency per stage. 0 = no wait.
   */
  lingerMs?: number;
  metrics?: RunnerMetrics;
  /** Backoff after a RetryableError: first delay and cap, ms. */
  retryBackoffMs?: { first: number; max: number };
}

/**
 * Header carried from stage to stage: ms since epoch when the flow's first record was appended
 * (for mail, the SMTP `250`). The first stage sets it from its input record's append time.
 */
export const RECEIVED_AT_HEADER = 'received-at';

/** Every topic the topologies declare, as the log creates it. */
export function topicSpecs(topologies: readonly Topology[]): TopicSpec[] {
  return topologies.flatMap((t) =>
    [...t.topics.values()].map((topic) => ({
      name: topic.name,
      partitions: topic.partitions,
      retentionMs: topic.retentionMs,
      replicationFactor: topic.replicationFactor,
      minInsyncReplicas: topic.minInsyncReplicas,
    })),
  );
}

/** The consumer group of a stage. */
export function stageGroup(topology: Topology, stage: StageDecl): string {
  return `${topology.name}.${stage.name}`;
}

interface RunningStage {
  readonly topology: Topology;
  readonly stage: StageDecl;
  readonly processor: Processor<unknown, unknown>;
  readonly consumer: Consumer;
  /** Partitions held by `waitUntil`: `${topic}\0${partition}` → when the held record is due. */
  readonly holds: Map<string, { topic: string; partition: number; due: number }>;
  /** Partitions owned when last reported to the metrics (-1: never). */
  owned: number;
  loop?: Promise<void>;
}

export class TopologyRunner {
  private readonly stages: RunningStage[] = [];
  private running = false;
  private readonly codecs = new Map<string, AvroType>();
  private readonly wakeups = new Set<() => void>();

  constructor(private readonly options: RunnerOptions) {}

  /** Creates the topics of every topology, then starts one loop per stage. */
  async start(): Promise<void> {
    const { log, topologies, processors, resources } = this.options;
    await log.ensureTopics(topicSpecs(topologies));
    const declared: { topology: Topology; stage: StageDecl; processor: Processor<unknown, unknown> }[] = [];
    for (const topology of topologies) {
      for (const topic of topology.topics.values()) this.codecs.set(topic.name, schemaType(topic.schema));
      for (const stage of topology.stages) {
        const definition = processors.get(stage.processor);
        if (!definition) throw new Error(`${topology.name}: stage ${stage.name}: unknown processor ${stage.processor}`);
        declared.push({ topology, stage, processor: definition.create(stage.config, resources) as Processor<unknown, unknown> });
      }
    }
    // All at once: on Kafka each consumer joins its stage's group, and a join waits for the
    // group's other members (other processes) to rejoin, about a heartbeat interval.
    const opened = await Promise.allSettled(declared.map((d) => log.consumer(stageGroup(d.topology, d.stage), [d.stage.from])));
    const failed = opened.find((o) => o.status === 'rejected');
    if (failed) {
      await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.close().catch(() => undefined) : undefined)));
      await Promise.all(declared.map((d) => Promise.resolve(d.processor.close?.()).catch(() => undefined)));
      throw failed.reason;
    }
    declared.forEach((d, i) => {
      const consumer = (opened[i] as PromiseFulfilledResult<Consumer>).value;
      this.stages.push({ ...d, consumer, holds: new Map(), owned: -1 });
    });
    this.running = true;
    for (const running of this.stages) running.loop = this.runStage(running);
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const wake of this.wakeups) wake();
    await Promise.all(this.stages.map((s) => s.loop));
    for (const s of this.stages) {
      await s.consumer.close();
      await s.processor.close?.();
    }
    this.stages.length = 0;
  }

  private codec(topic: string): AvroType {
    const codec = this.codecs.get(topic);
    if (!codec) throw new Error(`no schema for topic ${topic}`);
    return codec;
  }

  private async runStage(running: RunningStage): Promise<void> {
    const { logger, batchSize = 256, pollTimeoutMs = 500 } = this.options;
    const lingerMs = running.stage.lingerMs ?? this.options.lingerMs ?? 0;
    const { first, max } = this.options.retryBackoffMs ?? { first: 100, max: 30_000 };
    let backoff = first;
    while (this.running) {
      this.reportOwned(running);
      try {
        const records = await running.consumer.poll(batchSize, this.releaseDue(running, pollTimeoutMs));
        if (records.length === 0 || !this.running) continue;
        if (lingerMs > 0 && records.length < batchSize) {
          await this.sleep(lingerMs);
          records.push(...(await running.consumer.poll(batchSize - records.length, 0)));
        }
        await this.processBatch(running, records);
        backoff = first;
      } catch (err) {
        if (!this.running) break;
        if (err instanceof RebalanceError) {
          // Another member of the group owns (some of) these partitions now: what was read is
          // theirs to process; what stays ours is read again from the committed offsets.
          this.options.metrics?.rebalanced?.(running.stage.name);
          logger.warn({ stage: running.stage.name, reason: err.message }, 'partitions moved in a rebalance; batch discarded, reading again from the committed offsets');
          for (const hold of running.holds.values()) running.consumer.resume(hold.topic, hold.partition);
          running.holds.clear();
          await running.consumer.rewind().catch(() => undefined);
          continue;
        }
        this.options.metrics?.retried(running.stage.name);
        logger.warn({ err, stage: running.stage.name, retryInMs: backoff }, 'stage batch failed; retrying');
        // Holds go too: a held partition is read again from its committed offset.
        for (const hold of running.holds.values()) running.consumer.resume(hold.topic, hold.partition);
        running.holds.clear();
        await running.consumer.rewind().catch(() => undefined);
        await this.sleep(backoff);
        backoff = Math.min(max, backoff * 2);
      }
    }
  }

  /** Tells the metrics how many partitions the stage's consumer owns, when that changed. */
  private reportOwned(running: RunningStage): void {
    const owned = running.consumer.owned?.().length;
    if (owned === undefined || owned === running.owned) return;
    running.owned = owned;
    this.options.metrics?.ownedPartitions?.(running.stage.name, owned);
  }

  /** Resumes the held partitions that are due; returns how long the next poll may wait. */
  private releaseDue(running: RunningStage, pollTimeoutMs: number): number {
    if (running.holds.size === 0) return pollTimeoutMs;
    const now = this.options.resources.now();
    let next = Infinity;
    for (const [key, hold] of running.holds) {
      if (hold.due <= now) {
        running.holds.delete(key);
        running.consumer.resume(hold.topic, hold.partition);
      } else next = Math.min(next, hold.due);
    }
    return Math.max(1, Math.min(pollTimeoutMs, next - now));
  }

  /**
   * `waitUntil`: keeps the records that are due; at the first one of a partition that is not,
   * holds the partition there (it and the records after it are read again once resumed).
   */
  private dueOnly(running: RunningStage, records: readonly LogRecord[], decoded: readonly (InputRecord<unknown> | Error)[]): number[] {
    const field = running.stage.waitUntil;
    const all = records.map((_, i) => i);
    if (!field) return all;
    const now = this.options.resources.now();
    return all.filter((i) => {
      const r = records[i];
      const key = `${r.topic}\u0000${r.partition}`;
      if (running.holds.has(key)) return false;
      const d = decoded[i];
      const due = d instanceof Error ? 0 : Number((d.value as Record<string, unknown>)[field] ?? 0);
      if (due <= now) return true;
      running.holds.set(key, { topic: r.topic, partition: r.partition, due });
      running.consumer.pauseAt({ topic: r.topic, partition: r.partition, offset: r.offset });
      return false;
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakeups.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeups.add(wake);
    });
  }

  private async processBatch(running: RunningStage, polled: readonly LogRecord[]): Promise<void> {
    const { stage, processor } = running;
    const started = performance.now();
    const inputCodec = this.codec(stage.from);
    const outputs: ProduceRecord[] = [];
    let dead = 0;

    const all: (InputRecord<unknown> | Error)[] = polled.map((r) => {
      try {
        return { topic: r.topic, partition: r.partition, offset: r.offset, key: r.key, value: inputCodec.fromBuffer(r.value), headers: r.headers, timestamp: r.timestamp };
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
    });
    const due = this.dueOnly(running, polled, all);
    if (due.length === 0) return;
    const records = due.map((i) => polled[i]);
    const decoded = due.map((i) => all[i]);
    const results = await this.runProcessor(processor, decoded);
    results.forEach((result, i) => {
      const record = records[i];
      if (result instanceof Error) {
        if (result instanceof RetryableError) throw result;
        dead++;
        outputs.push(this.deadLetter(stage, record, result));
        return;
      }
      for (const out of result) outputs.push(this.encodeOutput(stage, record, out));
    });

    const offsets = nextOffsets(records);
    await running.consumer.commit(outputs, offsets);

    const metrics = this.options.metrics;
    if (metrics) {
      metrics.processed(stage.name, records.length - dead);
      if (dead) metrics.deadLettered(stage.name, dead);
      metrics.batchSeconds(stage.name, (performance.now() - started) / 1000);
      const now = Date.now();
      for (const r of records) {
        const at = Number(r.headers[RECEIVED_AT_HEADER] ?? r.timestamp);
        if (at > 0) metrics.sinceReceived(stage.name, (now - at) / 1000);
      }
    }
  }

  /** Outputs per record, or the Error that record raised. */
  private async runProcessor(processor: Processor<unknown, unknown>, decoded: readonly (InputRecord<unknown> | Error)[]): Promise<(OutputRecord<unknown>[] | Error)[]> {
    const results: (OutputRecord<unknown>[] | Error)[] = decoded.map((d) => (d instanceof Error ? d : []));
    const good = decoded.flatMap((d, i) => (d instanceof Error ? [] : [{ d, i }]));
    if (processor.processBatch && good.length > 1) {
      try {
        const batch = await processor.processBatch(good.map((g) => g.d));
        good.forEach((g, j) => (results[g.i] = batch[j]));
        return results;
      } catch (err) {
        if (err instanceof RetryableError) throw err;
        // Fall back to one record at a time so that one bad record cannot hold up the rest.
      }
    }
    for (const { d, i } of good) {
      try {
        results[i] = await processor.process(d);
      } catch (err) {
        if (err instanceof RetryableError) throw err;
        results[i] = err instanceof Error ? err : new Error(String(err));
      }
    }
    return results;
  }

  private encodeOutput(stage: StageDecl, input: LogRecord, out: OutputRecord<unknown>): ProduceRecord {
    const topic = out.topic ?? stage.to[0];
    if (!topic || !stage.to.includes(topic)) throw new Error(`stage ${stage.name} produced to ${topic ?? '(none)'}, not a declared output`);
    const headers = { [RECEIVED_AT_HEADER]: String(input.timestamp), ...input.headers, ...out.headers };
    return { topic, key: out.key, value: this.codec(topic).toBuffer(out.value), headers };
  }

  private deadLetter(stage: StageDecl, record: LogRecord, error: Error): ProduceRecord {
    const { logger } = this.options;
    logger.error({ err: error, stage: stage.name, topic: record.topic, partition: record.partition, offset: record.offset }, 'record dead-lettered');
    if (!stage.deadLetter) throw new Error(`stage ${stage.name} has no dead-letter topic and failed on ${record.topic}/${record.partition}/${record.offset}: ${error.message}`);
    const letter: DeadLetter = {
      stage: stage.name,
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      key: record.key,
      value: record.value,
      headers: { ...record.headers },
      error: error.stack ?? error.message,
      failedAt: this.options.resources.now(),
    };
    return { topic: stage.deadLetter, key: record.key, value: this.codec(stage.deadLetter).toBuffer(letter), headers: record.headers };
  }
}

/** Per partition, the offset after the last record of the batch. */
function nextOffsets(records: readonly LogRecord[]): CommitOffset[] {
  const next = new Map<string, CommitOffset>();
  for (const r of records) {
    const k = `${r.topic}\u0000${r.partition}`;
    const cur = next.get(k);
    if (!cur || cur.offset < r.offset + 1) next.set(k, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
  }
  return [...next.values()];
}
