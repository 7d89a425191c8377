/**
 * A consumer of the Kafka log: a member of its consumer group (kafka/membership.ts), so several
 * consumers of one group, in one process or many, split the partitions of its topics and take
 * over those of a member that leaves or dies (after the session timeout). It reads only the
 * partitions of its current generation, each from the group's committed offset (read with
 * `require_stable`, so offsets of a transaction still being completed are waited for, not
 * missed), and keeps its read positions in memory. Fetches are read_committed long polls to each
 * partition leader (see fetch.ts).
 *
 * `commit(outputs, offsets)` is one Kafka transaction of this consumer's own transactional
 * producer (`transactional.id` `<prefix>.<group>.<random>`): the outputs, then the offsets through
 * `TxnOffsetCommit` carrying the member id and the generation the records were read in (KIP-447),
 * then EndTxn. Fencing is the group's: a member whose generation is no longer current has its
 * offsets refused (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID), the transaction aborts and nothing of
 * it is visible. The commit is refused here already, before any request, when the group has moved
 * to a new generation since the records were read or when an offset names a partition this member
 * does not own: either way a `RebalanceError`, after which the caller rewinds.
 *
 * A new generation drops the read positions of revoked partitions (their uncommitted records are
 * the new owner's to read again) and of all partitions when generations were skipped (the member
 * was removed and joined anew). A hold (`pauseAt`) of a revoked partition loses its position: if
 * the partition comes back, it is read from the group's committed offset once resumed.
 *
 * A member killed in the middle of a transaction leaves it open until the transaction timeout
 * (the broker aborts it; `transactionTimeoutMs`): until then its offsets are unstable and the new
 * owner of its partitions waits for them (poll reads its other partitions meanwhile, it does not fail).
 */
import { FindCoordinatorKeyTypes, ListOffsetTimestamps } from '@platformatic/kafka';
import type { Admin, Consumer as FetchClient, Message, Producer } from '@platformatic/kafka';
import { RebalanceError } from '../log.ts';
import type { CommitOffset, Consumer, LogRecord, ProduceRecord } from '../log.ts';
import { OFFSET_OUT_OF_RANGE, fetchFrom } from './fetch.ts';
import type { PartitionToFetch } from './fetch.ts';
import { GroupMembership, partitionKey as key } from './membership.ts';
import type { Generation, MembershipOptions } from './membership.ts';
import { chunkByBytes, toMessages } from './producer.ts';
import { closeNow, partitionOutOfRange } from './topics.ts';
import type { TopicDirectory, TopicInfo } from './topics.ts';

export interface KafkaConsumerParts {
  readonly admin: Admin;
  readonly topics: TopicDirectory;
  /** A client of its own: a long-polling Fetch holds its broker connection. */
  readonly newFetchClient: () => FetchClient;
  readonly newTransactionalProducer: (transactionalId: string) => Producer<Buffer, Buffer, Buffer, Buffer>;
  /** Unique to this consumer (KIP-447: fencing is by generation, not by transactional id). */
  readonly transactionalId: string;
  /** Membership options but the group, topics and change callback. */
  readonly membership: Pick<MembershipOptions, 'base' | 'timings'>;
  readonly forget: (consumer: KafkaConsumer) => void;
}

/** Longest single broker wait inside one poll; several leaders share a shorter one. */
const LONG_POLL_MS = 500;
const MULTI_LEADER_POLL_MS = 100;
/** Group-membership errors of TxnOffsetCommit: this member's generation is over. */
const REBALANCE_ERRORS = ['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'FENCED_INSTANCE_ID'];
/** Wait before asking again for offsets a transaction still holds unstable. */
const UNSTABLE_RETRY_MS = 200;
/** `readIn` when the records not committed yet were read in more than one generation. */
const MIXED = -2;

export class KafkaConsumer implements Consumer {
  private readonly fetchClient: FetchClient;
  private readonly membership: GroupMembership;
  private producer: Producer<Buffer, Buffer, Buffer, Buffer> | undefined;
  /** `${topic}\0${partition}` → next offset to return; only partitions of the current generation. */
  private readonly positions = new Map<string, number>();
  /** Partitions held by `pauseAt` (keys as `positions`): not fetched until `resume`. */
  private readonly paused = new Set<string>();
  /** Generation the records returned and not committed yet were read in (MIXED: several). */
  private readIn: number | undefined;
  /** Partitions whose read position is past what this consumer last committed for them. */
  private readonly ahead = new Set<string>();
  /** Wakes a poll that has nothing to fetch (every partition held, or none owned) on a resume or a new generation. */
  private wakeUp: (() => void) | undefined;
  /** The committed offsets being read (startLoading), and the error that reading met. */
  private loading: Promise<void> | undefined;
  private loadFailure: Error | undefined;
  private closed = false;
  private coordinator: number | undefined;

  constructor(
    private readonly parts: KafkaConsumerParts,
    readonly group: string,
    private readonly topicNames: readonly string[],
  ) {
    this.fetchClient = parts.newFetchClient();
    this.membership = new GroupMembership({
      ...parts.membership,
      group,
      topics: topicNames,
      onChange: (previous, next) => this.generationChanged(previous, next),
    });
  }

  /** Joins the group; resolves with the first assignment known. */
  async start(): Promise<void> {
    try {
      await this.membership.join();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Partitions this member owns in its current generation (none while it is not a member). */
  owned(): { topic: string; partition: number }[] {
    const generation = this.membership.generation;
    if (!generation) return [];
    return [...generation.owned].map((k) => {
      const [topic, partition] = k.split('\u0000');
      return { topic, partition: Number(partition) };
    });
  }

  async poll(maxRecords: number, timeoutMs: number): Promise<LogRecord[]> {
    this.assertOpen();
    const max = Math.max(1, Math.floor(maxRecords));
    const deadline = Date.now() + Math.max(0, timeoutMs);
    let refresh = false;
    let awaitedLoad = false;
    for (;;) {
      const generation = this.membership.generation;
      const infos = await Promise.all(this.topicNames.map((t) => this.parts.topics.get(t, refresh)));
      const mine = (info: TopicInfo, p: number) => generation?.owned.has(key(info.name, p)) === true;
      if (this.closed) return [];
      if (this.loadFailure) {
        const failure = this.loadFailure;
        this.loadFailure = undefined;
        throw failure;
      }
      if (generation && !this.loading) this.startLoading(infos, generation);
      const byLeader = new Map<number, PartitionToFetch[]>();
      for (const info of infos) {
        for (let p = 0; p < info.partitions; p++) {
          const k = key(info.name, p);
          const offset = this.positions.get(k);
          if (!mine(info, p) || this.paused.has(k) || offset === undefined) continue;
          const leader = info.leaders[p] ?? -1;
          byLeader.set(leader, [...(byLeader.get(leader) ?? []), { topic: info.name, topicId: info.id, partition: p, offset }]);
        }
      }
      refresh = byLeader.has(-1);
      byLeader.delete(-1);
      if (byLeader.size === 0 && !refresh && this.loading && !awaitedLoad) {
        // Positions being read: wait for them once, whatever the timeout (a poll with timeout 0
        // of a new consumer reads what is there, as before the group took partitions in turn).
        awaitedLoad = true;
        await this.loading;
        if (this.closed) return [];
        continue;
      }
      if (byLeader.size === 0 && !refresh) {
        // Nothing to fetch (every partition held, none owned, offsets being read): wait for a
        // resume, a new generation, positions or the deadline, not in a busy loop.
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
      // A rebalance during the fetch: what was fetched may belong to another member now.
      if (generation !== this.membership.generation) continue;
      const out: LogRecord[] = [];
      for (const fetched of results.flat()) {
        const k = key(fetched.topic, fetched.partition);
        if (fetched.errorCode === OFFSET_OUT_OF_RANGE) {
          // Retention deleted what we were about to read: go on from the earliest record kept.
          this.positions.set(k, await this.earliest(fetched.topic, fetched.partition));
          continue;
        }
        if (fetched.errorCode !== 0) {
          refresh = true;
          continue;
        }
        if (this.paused.has(k)) continue; // held while the fetch was out
        const taken = fetched.records.slice(0, Math.max(0, max - out.length));
        out.push(...taken);
        // All taken: go on past the markers and aborted records too; cut short: after the last one taken.
        if (taken.length === fetched.records.length) this.positions.set(k, fetched.next);
        else if (taken.length > 0) this.positions.set(k, taken[taken.length - 1].offset + 1);
        if (taken.length > 0) this.ahead.add(k);
      }
      if (out.length > 0 && generation) {
        this.readIn = this.readIn === undefined || this.readIn === generation.id ? generation.id : MIXED;
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
    const generation = offsets.length > 0 ? this.commitGeneration(offsets) : undefined;
    this.producer ??= this.parts.newTransactionalProducer(this.parts.transactionalId);
    const producer = this.producer;
    const transaction = await producer.beginTransaction();
    try {
      // One send per run of ≤ 768 KiB: each send's records for a partition form one record batch.
      for (const chunk of chunkByBytes(messages)) await transaction.send({ messages: chunk });
      if (generation) {
        this.coordinator ??= await this.findCoordinator();
        // The client takes the group from a consumer and each offset from a consumed message.
        await transaction.addConsumer({ groupId: this.group } as FetchClient);
        for (const o of offsets) {
          const consumed = {
            topic: o.topic,
            partition: o.partition,
            offset: BigInt(o.offset) - 1n, // the client commits offset + 1
            // KIP-447: the generation the records were read in; the coordinator refuses a stale one.
            metadata: { consumer: { groupId: this.group, generationId: generation.id, memberId: generation.memberId, coordinatorId: this.coordinator } },
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
      if (hasApiError(err, REBALANCE_ERRORS)) {
        throw new RebalanceError(`group "${this.group}" moved past generation ${generation?.id}: commit refused, nothing of it is visible`, { cause: err });
      }
      throw err;
    }
    for (const o of offsets) {
      const k = key(o.topic, o.partition);
      const position = this.positions.get(k);
      if (position !== undefined && position < o.offset) this.positions.set(k, o.offset);
      if (position === undefined || position <= o.offset) this.ahead.delete(k);
    }
    // Everything read is committed: the next reads may be of a new generation without mixing.
    if (this.ahead.size === 0) this.readIn = undefined;
  }

  async rewind(): Promise<void> {
    this.assertOpen();
    this.readIn = undefined;
    this.ahead.clear();
    // A held partition keeps its hold position (at or after its committed offset).
    for (const k of [...this.positions.keys()]) if (!this.paused.has(k)) this.positions.delete(k);
  }

  /** Holds one partition at `position.offset` until `resume` (Consumer.pauseAt). */
  pauseAt(position: { topic: string; partition: number; offset: number }): void {
    const k = key(position.topic, position.partition);
    // A partition revoked meanwhile keeps no position: it is read from the committed offset if it comes back.
    if (this.membership.generation?.owned.has(k)) this.positions.set(k, position.offset);
    this.paused.add(k);
  }

  resume(topic: string, partition: number): void {
    this.paused.delete(key(topic, partition));
    this.wakeUp?.();
  }

  /** Reads the partition from `position.offset` on (Consumer.seek). */
  seek(position: { topic: string; partition: number; offset: number }): void {
    this.positions.set(key(position.topic, position.partition), Math.max(0, position.offset));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeUp?.();
    this.parts.forget(this);
    await Promise.all([this.membership.close(), closeNow(this.fetchClient), this.producer?.close().catch(() => undefined)]);
    this.producer = undefined;
  }

  /**
   * The generation a commit of `offsets` goes with: the one the records were read in, which must
   * still be the current one, and which must own every partition named.
   */
  private commitGeneration(offsets: readonly CommitOffset[]): Generation {
    const generation = this.membership.generation;
    if (!generation) throw new RebalanceError(`not a member of group "${this.group}" right now: commit refused`);
    if (this.readIn !== undefined && this.readIn !== generation.id) {
      throw new RebalanceError(`group "${this.group}" rebalanced since these records were read: commit refused`);
    }
    for (const o of offsets) {
      if (!generation.owned.has(key(o.topic, o.partition))) {
        throw new RebalanceError(`${o.topic}[${o.partition}] is not assigned to this member of group "${this.group}": commit refused`);
      }
    }
    return generation;
  }

  /** A new generation: drop what another member may have read and committed since. */
  private generationChanged(previous: Generation | undefined, next: Generation | undefined): void {
    const continuous = previous !== undefined && next !== undefined && next.id === previous.id + 1 && next.memberId === previous.memberId;
    for (const k of [...this.positions.keys()]) {
      if (!continuous || !next?.owned.has(k)) this.positions.delete(k);
    }
    this.wakeUp?.();
  }

  /**
   * Reads, in the background, the positions of owned partitions not read yet: the group's
   * committed offsets (0 where none). Offsets still unstable (a transaction committing them is
   * open, e.g. of a member killed mid-commit) stay without a position and are asked for again a
   * moment later, while the other partitions are fetched; another error fails the next poll.
   */
  private startLoading(infos: readonly TopicInfo[], generation: Generation): void {
    const missing = infos
      .map((info) => ({
        name: info.name,
        partitionIndexes: range(info.partitions).filter((p) => generation.owned.has(key(info.name, p)) && !this.positions.has(key(info.name, p))),
      }))
      .filter((t) => t.partitionIndexes.length > 0);
    if (missing.length === 0) return;
    this.loading = (async () => {
      try {
        const [found] = await this.parts.admin.listConsumerGroupOffsets({ groups: [{ groupId: this.group, topics: missing }], requireStable: true });
        if (generation !== this.membership.generation || this.closed) return; // they may not be ours any more
        const committed = new Map<string, number>();
        for (const t of found?.topics ?? []) {
          for (const p of t.partitions) committed.set(key(t.name, p.partitionIndex), p.committedOffset < 0n ? 0 : Number(p.committedOffset));
        }
        for (const t of missing) {
          for (const p of t.partitionIndexes) {
            const k = key(t.name, p);
            if (!this.positions.has(k)) this.positions.set(k, committed.get(k) ?? 0);
          }
        }
      } catch (err) {
        if (hasApiError(err, ['UNSTABLE_OFFSET_COMMIT'])) await sleep(UNSTABLE_RETRY_MS);
        else this.loadFailure = err instanceof Error ? err : new Error(String(err));
      } finally {
        this.loading = undefined;
        this.wakeUp?.();
      }
    })();
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

/** True when `err` (or an error it carries) is a Kafka protocol error with one of `ids`. */
function hasApiError(err: unknown, ids: readonly string[]): boolean {
  const finder = err as { findBy?: (property: string, value: unknown) => unknown } | undefined;
  return ids.some((id) => Boolean(finder?.findBy?.('apiId', id)));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
