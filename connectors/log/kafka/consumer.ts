/**
 * A consumer of the Kafka log. Like the embedded consumer it owns every partition of its topics
 * (explicit assignment, no group membership or rebalancing: one consumer per group at a time),
 * starts at the group's committed offsets (read with `require_stable`, so offsets of a
 * transaction still being completed are waited for, not missed) and keeps its read position in
 * memory. Fetches are read_committed long polls to each partition leader (see fetch.ts).
 *
 * `commit(outputs, offsets)` is one Kafka transaction of a transactional producer whose
 * `transactional.id` is `<prefix>.<group>`: the outputs, then the offsets through
 * `TxnOffsetCommit` (Kafka's `sendOffsetsToTransaction`, as a standalone consumer: generation
 * -1, no member id), then EndTxn. A second consumer of the same group, in any process, takes the
 * same transactional id and so fences this one: its next commit fails and nothing of it is
 * visible, which keeps a zombie from committing next to its successor.
 */
import { FindCoordinatorKeyTypes, ListOffsetTimestamps } from '@platformatic/kafka';
import type { Admin, Consumer as FetchClient, Message, Producer } from '@platformatic/kafka';
import type { CommitOffset, Consumer, LogRecord, ProduceRecord } from '../log.ts';
import { OFFSET_OUT_OF_RANGE, fetchFrom } from './fetch.ts';
import type { PartitionToFetch } from './fetch.ts';
import { chunkByBytes, toMessages } from './producer.ts';
import { closeNow, partitionOutOfRange } from './topics.ts';
import type { TopicDirectory, TopicInfo } from './topics.ts';

export interface KafkaConsumerParts {
  readonly admin: Admin;
  readonly topics: TopicDirectory;
  /** A client of its own: a long-polling Fetch holds its broker connection. */
  readonly newFetchClient: () => FetchClient;
  readonly newTransactionalProducer: (transactionalId: string) => Producer<Buffer, Buffer, Buffer, Buffer>;
  readonly transactionalId: string;
  readonly forget: (consumer: KafkaConsumer) => void;
}

/** Longest single broker wait inside one poll; several leaders share a shorter one. */
const LONG_POLL_MS = 500;
const MULTI_LEADER_POLL_MS = 100;

export class KafkaConsumer implements Consumer {
  private readonly fetchClient: FetchClient;
  private producer: Producer<Buffer, Buffer, Buffer, Buffer> | undefined;
  /** `${topic}\0${partition}` → next offset to return. */
  private readonly positions = new Map<string, number>();
  /** Partitions held by `pauseAt` (keys as `positions`): not fetched until `resume`. */
  private readonly paused = new Set<string>();
  /** Wakes a poll that has nothing to fetch (every partition held) when one is resumed. */
  private wakeUp: (() => void) | undefined;
  private closed = false;
  private coordinator: number | undefined;

  constructor(
    private readonly parts: KafkaConsumerParts,
    readonly group: string,
    private readonly topicNames: readonly string[],
  ) {
    this.fetchClient = parts.newFetchClient();
  }

  async poll(maxRecords: number, timeoutMs: number): Promise<LogRecord[]> {
    this.assertOpen();
    const max = Math.max(1, Math.floor(maxRecords));
    const deadline = Date.now() + Math.max(0, timeoutMs);
    let refresh = false;
    for (;;) {
      const infos = await Promise.all(this.topicNames.map((t) => this.parts.topics.get(t, refresh)));
      await this.loadPositions(infos);
      const byLeader = new Map<number, PartitionToFetch[]>();
      for (const info of infos) {
        for (let p = 0; p < info.partitions; p++) {
          if (this.paused.has(key(info.name, p))) continue;
          const leader = info.leaders[p] ?? -1;
          const target = { topic: info.name, topicId: info.id, partition: p, offset: this.positions.get(key(info.name, p)) ?? 0 };
          byLeader.set(leader, [...(byLeader.get(leader) ?? []), target]);
        }
      }
      refresh = byLeader.has(-1);
      byLeader.delete(-1);
      if (byLeader.size === 0 && !refresh) {
        // Every partition is held: wait for a resume or the deadline, not in a busy loop.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
          this.wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeUp = undefined;
        if (this.closed || Date.now() >= deadline) return [];
        continue;
      }
      const remaining = deadline - Date.now();
      const wait = Math.max(0, Math.min(remaining, byLeader.size > 1 ? MULTI_LEADER_POLL_MS : LONG_POLL_MS));
      const results = await Promise.all(
        [...byLeader].map(([node, list]) => fetchFrom(this.fetchClient, node, list, { maxWaitMs: wait }).catch(() => {
          refresh = true; // a broker gone or no longer the leader: ask for metadata again
          return [];
        })),
      );
      if (this.closed) return [];
      const out: LogRecord[] = [];
      for (const fetched of results.flat()) {
        if (fetched.errorCode === OFFSET_OUT_OF_RANGE) {
          // Retention deleted what we were about to read: go on from the earliest record kept.
          this.positions.set(key(fetched.topic, fetched.partition), await this.earliest(fetched.topic, fetched.partition));
          continue;
        }
        if (fetched.errorCode !== 0) {
          refresh = true;
          continue;
        }
        const taken = fetched.records.slice(0, Math.max(0, max - out.length));
        out.push(...taken);
        // All taken: go on past the markers and aborted records too; cut short: after the last one taken.
        if (taken.length === fetched.records.length) this.positions.set(key(fetched.topic, fetched.partition), fetched.next);
        else if (taken.length > 0) this.positions.set(key(fetched.topic, fetched.partition), taken[taken.length - 1].offset + 1);
      }
      if (out.length > 0 || Date.now() >= deadline) return out;
      if (refresh) await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
    }
  }

  async commit(outputs: readonly ProduceRecord[], offsets: readonly CommitOffset[]): Promise<void> {
    this.assertOpen();
    const messages = await toMessages(outputs, this.parts.topics);
    const topicOf = new Map<string, TopicInfo>();
    for (const o of offsets) {
      const info = topicOf.get(o.topic) ?? (await this.parts.topics.get(o.topic));
      topicOf.set(o.topic, info);
      if (!Number.isInteger(o.partition) || o.partition < 0 || o.partition >= info.partitions) {
        throw partitionOutOfRange(o.topic, o.partition, info.partitions);
      }
      if (!Number.isInteger(o.offset) || o.offset < 0) throw new Error(`cannot commit offset ${o.offset} for ${o.topic}[${o.partition}]`);
    }
    if (messages.length === 0 && offsets.length === 0) return;
    this.producer ??= this.parts.newTransactionalProducer(this.parts.transactionalId);
    const producer = this.producer;
    const transaction = await producer.beginTransaction();
    try {
      // One send per run of ≤ 768 KiB: each send's records for a partition form one record batch.
      for (const chunk of chunkByBytes(messages)) await transaction.send({ messages: chunk });
      if (offsets.length > 0) {
        this.coordinator ??= await this.findCoordinator();
        // The client takes the group from a consumer and each offset from a consumed message.
        await transaction.addConsumer({ groupId: this.group } as FetchClient);
        for (const o of offsets) {
          const consumed = {
            topic: o.topic,
            partition: o.partition,
            offset: BigInt(o.offset) - 1n, // the client commits offset + 1
            metadata: { consumer: { groupId: this.group, generationId: -1, memberId: '', coordinatorId: this.coordinator } },
          } as unknown as Message;
          await transaction.addOffset(consumed);
        }
      }
      await transaction.commit();
    } catch (err) {
      await transaction.abort().catch(() => undefined);
      // Whatever state the producer is in (fenced, timed out), the next commit starts a new one.
      this.producer = undefined;
      this.coordinator = undefined;
      await closeNow(producer);
      throw err;
    }
    for (const o of offsets) {
      const k = key(o.topic, o.partition);
      const position = this.positions.get(k);
      if (position !== undefined && position < o.offset) this.positions.set(k, o.offset);
    }
  }

  async rewind(): Promise<void> {
    this.assertOpen();
    // A held partition keeps its hold position (at or after its committed offset).
    for (const k of [...this.positions.keys()]) if (!this.paused.has(k)) this.positions.delete(k);
  }

  /** Holds one partition at `position.offset` until `resume` (Consumer.pauseAt). */
  pauseAt(position: { topic: string; partition: number; offset: number }): void {
    const k = key(position.topic, position.partition);
    this.positions.set(k, position.offset);
    this.paused.add(k);
  }

  resume(topic: string, partition: number): void {
    this.paused.delete(key(topic, partition));
    this.wakeUp?.();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeUp?.();
    this.parts.forget(this);
    await Promise.all([closeNow(this.fetchClient), this.producer?.close().catch(() => undefined)]);
    this.producer = undefined;
  }

  /** Positions of partitions not read yet: the group's committed offsets (0 where none). */
  private async loadPositions(infos: readonly TopicInfo[]): Promise<void> {
    const missing = infos
      .map((info) => ({ name: info.name, partitionIndexes: range(info.partitions).filter((p) => !this.positions.has(key(info.name, p))) }))
      .filter((t) => t.partitionIndexes.length > 0);
    if (missing.length === 0) return;
    const [group] = await this.parts.admin.listConsumerGroupOffsets({ groups: [{ groupId: this.group, topics: missing }], requireStable: true });
    for (const t of group?.topics ?? []) {
      for (const p of t.partitions) {
        const k = key(t.name, p.partitionIndex);
        if (!this.positions.has(k)) this.positions.set(k, p.committedOffset < 0n ? 0 : Number(p.committedOffset));
      }
    }
    for (const t of missing) for (const p of t.partitionIndexes) if (!this.positions.has(key(t.name, p))) this.positions.set(key(t.name, p), 0);
  }

  private async earliest(topic: string, partition: number): Promise<number> {
    const [listed] = await this.parts.admin.listOffsets({
      topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp: ListOffsetTimestamps.EARLIEST }] }],
    });
    return Number(listed?.partitions[0]?.offset ?? 0n);
  }

  private async findCoordinator(): Promise<number> {
    const [found] = await this.parts.admin.findCoordinator({ keyType: FindCoordinatorKeyTypes.GROUP, keys: [this.group] });
    if (!found) throw new Error(`no group coordinator found for group "${this.group}"`);
    return found.nodeId;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`consumer of group "${this.group}" is closed`);
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
