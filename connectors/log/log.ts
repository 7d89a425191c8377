/**
 * The log: partitioned, keyed, durable topics with consumer groups and transactions.
 *
 * Shaped after Kafka so that the embedded SQLite log and the Kafka connector sit behind the
 * same interface unchanged: a topic has N partitions; a record's partition is chosen from its
 * key (see `partitionFor`); offsets are per partition and start at 0; a consumer group commits,
 * per partition, the offset of the next record it will read; a consumer commits its outputs and
 * its input offsets atomically (Kafka: transactions with `sendOffsetsToTransaction`; embedded:
 * one SQLite transaction).
 *
 * Values are opaque bytes (Avro, see `schemas/`); the log never decodes them.
 *
 * Consumer groups: on Kafka, the consumers of one group (in one process or many) are members of
 * a real consumer group and split its partitions; a member that leaves or dies has its partitions
 * moved to the others (a rebalance), and a commit by a member whose partitions moved meanwhile
 * fails with `RebalanceError` (nothing of it visible). The embedded log, on one machine, keeps one
 * consumer per group per process: a consumer owns every partition of its topics, and a second
 * consumer of the same group is a successor, not a peer (it is meant to follow a closed one).
 */
import type { EngineHealth } from '../health.ts';

/**
 * A commit refused because the group rebalanced since its records were read (partitions revoked,
 * or this member's generation is over): nothing of it is visible. Not a failure of the records:
 * `rewind()` and poll again; the partitions still owned are read again from the committed offsets.
 */
export class RebalanceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RebalanceError';
  }
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** Records older than this may be deleted (ms); undefined = keep forever. */
  readonly retentionMs?: number;
  /** Kafka only; the embedded log ignores it. */
  readonly replicationFactor?: number;
  /** Kafka only; the embedded log ignores it. */
  readonly minInsyncReplicas?: number;
}

export interface ProduceRecord {
  readonly topic: string;
  readonly key: string;
  readonly value: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  /** Explicit partition; otherwise `partitionFor(key, partitions)`. */
  readonly partition?: number;
  /** Append time (ms since epoch); otherwise now. */
  readonly timestamp?: number;
}

export interface LogRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  /** Append time, ms since epoch. */
  readonly timestamp: number;
}

export interface RecordPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** The offset a group will read next in one partition (Kafka's committed offset). */
export type CommitOffset = RecordPosition;

export interface PartitionLag {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  /** Next offset the group will read. */
  readonly committed: number;
  /** Next offset to be written (high-water mark). */
  readonly end: number;
  /** end - committed. */
  readonly records: number;
  /** Age of the oldest unread record in seconds (0 when none). */
  readonly seconds: number;
}

export interface Consumer {
  readonly group: string;
  /**
   * Records after the group's position, in offset order per partition; waits up to
   * `timeoutMs` for at least one. Successive polls continue after the last returned record,
   * even before a commit; `rewind()` goes back to the committed positions.
   */
  poll(maxRecords: number, timeoutMs: number): Promise<LogRecord[]>;
  /**
   * Exactly-once consume→transform→produce: appends `outputs` and moves the group's committed
   * offsets to `offsets`, atomically and durably. On failure nothing of it is visible; a
   * `RebalanceError` says the records' partitions moved to another member meanwhile (rewind).
   */
  commit(outputs: readonly ProduceRecord[], offsets: readonly CommitOffset[]): Promise<void>;
  /** Forget uncommitted progress: the next poll starts again at the committed offsets. */
  rewind(): Promise<void>;
  /**
   * Holds one partition (Kafka: `seek` + `pause`): its read position goes back to `position.offset`
   * and polls return none of its records until `resume`; the other partitions flow on. Used for
   * records that are not due yet (a stage's `waitUntil`). A rewind keeps the hold.
   */
  pauseAt(position: RecordPosition): void;
  /** Ends a hold made by `pauseAt`; the partition is read again from where it was held. */
  resume(topic: string, partition: number): void;
  /**
   * The partitions this consumer reads now (its group assignment on Kafka; every partition of its
   * topics on the embedded log), for metrics; optional.
   */
  owned?(): { topic: string; partition: number }[];
  close(): Promise<void>;
}

export interface Log {
  /** Creates missing topics; existing ones keep their data (partitions may only grow). */
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  /** Appends records; resolves only once they are durable (fsynced / acks=all). */
  produce(records: readonly ProduceRecord[]): Promise<RecordPosition[]>;
  /**
   * A consumer of `topics` in `group`; a new group starts at the beginning of each partition. On
   * Kafka it joins the group and shares the partitions with the group's other members.
   */
  consumer(group: string, topics: readonly string[]): Promise<Consumer>;
  /** Random access for tools (dead-letter listing, export): up to `max` records from `offset`. */
  read(topic: string, partition: number, offset: number, max: number): Promise<LogRecord[]>;
  topics(): Promise<TopicSpec[]>;
  /** Next offset to be written in each partition of `topic`. */
  endOffsets(topic: string): Promise<number[]>;
  /** Committed offsets of `group` in each partition of `topic` (0 where none). */
  committed(group: string, topic: string): Promise<number[]>;
  /** Lag of `group` on every partition of `topics`. */
  lag(group: string, topics: readonly string[]): Promise<PartitionLag[]>;
  /** Deletes records past their topic's retention; returns how many went. */
  enforceRetention(now?: number): Promise<number>;
  /** One cheap round trip to the engine (`connectors/health.ts`); never throws. */
  health(): Promise<EngineHealth>;
  close(): Promise<void>;
}

/**
 * Kafka's default partitioner: murmur2 of the key's UTF-8 bytes, positive, modulo partitions.
 * Both connectors use it, so a key lands in the same partition on either.
 */
export function partitionFor(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2). */
export function murmur2(data: Buffer): number {
  const length = data.length;
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  let h = seed ^ length;
  const length4 = Math.floor(length / 4);
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4] & 0xff) + ((data[i4 + 1] & 0xff) << 8) + ((data[i4 + 2] & 0xff) << 16) + ((data[i4 + 3] & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  switch (length % 4) {
    case 3:
      h ^= (data[(length & ~3) + 2] & 0xff) << 16;
    // falls through
    case 2:
      h ^= (data[(length & ~3) + 1] & 0xff) << 8;
    // falls through
    case 1:
      h ^= data[length & ~3] & 0xff;
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}
