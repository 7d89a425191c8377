/**
 * Consumer-group membership of one Kafka consumer: Kafka's classic group protocol (JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup; KIP-62 session and rebalance timeouts, eager rebalances), run
 * by @platformatic/kafka's own `Consumer` (its `joinGroup`, heartbeats and automatic rejoin after
 * REBALANCE_IN_PROGRESS / ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID), with our range assignor.
 *
 * What this module adds is the view the exactly-once commit needs: the current generation (id,
 * member id, the partitions it assigned to this member) and a callback when it changes, so the
 * consumer can drop the read positions of revoked partitions and carry the generation of the
 * records it read into `TxnOffsetCommit` (KIP-447): a member whose generation is no longer the
 * group's has its offsets refused by the coordinator (ILLEGAL_GENERATION), and its transaction
 * aborts with them.
 *
 * KIP-848's consumer protocol (Kafka 4) is also in the client, but it acknowledges a revocation
 * to the coordinator as soon as it learns of it, before the application has stopped working on
 * the partition; the classic protocol with eager rebalances gives the simpler guarantee: a
 * partition changes owner only in a new generation, and a member's commits name the generation
 * they were read in.
 */
import { Consumer as GroupClient } from '@platformatic/kafka';
import type { ClusterMetadata, ConsumerGroupJoinPayload, GroupPartitionsAssignments, ExtendedGroupProtocolSubscription } from '@platformatic/kafka';

export interface GroupTimings {
  /** A member that sends no heartbeat for this long is removed and its partitions move (ms). */
  readonly sessionTimeoutMs: number;
  /** How often a member heartbeats; a rebalance is noticed within one interval (ms). */
  readonly heartbeatIntervalMs: number;
  /** How long the coordinator waits for members to rejoin in a rebalance (ms, ≥ session timeout). */
  readonly rebalanceTimeoutMs: number;
}

export const DEFAULT_GROUP_TIMINGS: GroupTimings = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, rebalanceTimeoutMs: 20_000 };

/** One generation of the group as this member saw it. */
export interface Generation {
  readonly id: number;
  readonly memberId: string;
  /** Partitions assigned to this member, as `partitionKey(topic, partition)`. */
  readonly owned: ReadonlySet<string>;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export interface MembershipOptions {
  readonly base: { clientId: string; bootstrapBrokers: string[]; timeout: number; retries: number; retryDelay: number };
  readonly group: string;
  readonly topics: readonly string[];
  readonly timings: GroupTimings;
  /** Called after each new generation (and with undefined when membership is lost). */
  readonly onChange: (previous: Generation | undefined, next: Generation | undefined) => void;
}

/** How long to wait before joining again after the client gave up rejoining. */
const REJOIN_AFTER_MS = 1_000;
/** How long a first join keeps trying (a broker restarting, a coordinator moving). */
const JOIN_DEADLINE_MS = 120_000;
/** How long `close` waits for LeaveGroup (a JoinGroup in flight holds the connection). */
const LEAVE_WAIT_MS = 3_000;

export class GroupMembership {
  private client: GroupClient;
  private current: Generation | undefined;
  private closed = false;
  private rejoinTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: MembershipOptions) {
    this.client = this.newClient();
  }

  private newClient(): GroupClient {
    const { timings } = this.options;
    const client = new GroupClient({
      ...this.options.base,
      // A JoinGroup is answered only when the rebalance completes: allow for the rebalance timeout.
      timeout: Math.max(this.options.base.timeout, timings.rebalanceTimeoutMs + 5_000),
      groupId: this.options.group,
      sessionTimeout: timings.sessionTimeoutMs,
      heartbeatInterval: timings.heartbeatIntervalMs,
      rebalanceTimeout: timings.rebalanceTimeoutMs,
      protocols: [{ name: 'range', version: 1 }],
      partitionAssigner: rangeAssignor,
    });
    for (const topic of this.options.topics) client.topics.track(topic);
    client.on('consumer:group:join', (payload: ConsumerGroupJoinPayload) => {
      if (client === this.client) this.joined(payload);
    });
    // The client emits 'error' when it gave up rejoining (retries spent): we are no member now.
    client.on('error', () => {
      if (client !== this.client) return;
      this.change(undefined);
      this.scheduleRejoin();
    });
    // A heartbeat that failed for another reason than the group's (a coordinator gone, a network
    // error) stops the client's heartbeats for good (@platformatic/kafka 1.35): join again, or the
    // group would drop this member after the session timeout and it would never come back.
    client.on('consumer:heartbeat:error', () => {
      if (client === this.client) this.scheduleRejoin();
    });
    return client;
  }

  /** The generation this member is in, or undefined while it is not a member. */
  get generation(): Generation | undefined {
    return this.current;
  }

  /**
   * Joins the group; resolves once the first assignment is known. A join that fails (the group
   * coordinator's broker just died, so the client's retries hit a closed port) is tried again
   * with a fresh client, which finds the new coordinator, until `JOIN_DEADLINE_MS` has passed.
   */
  async join(): Promise<void> {
    const deadline = Date.now() + JOIN_DEADLINE_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.joinGroup({});
        return;
      } catch (err) {
        if (this.closed || Date.now() >= deadline) throw err;
        const old = this.client;
        this.client = this.newClient();
        old.close(true, () => undefined);
        await new Promise((resolve) => setTimeout(resolve, Math.min(REJOIN_AFTER_MS * attempt, 5_000)));
      }
    }
  }

  /** Leaves the group (its partitions move at once, not after the session timeout). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.rejoinTimer);
    this.change(undefined);
    let timer: NodeJS.Timeout | undefined;
    const leave = this.client.close().catch(() => undefined);
    await Promise.race([leave, new Promise((resolve) => (timer = setTimeout(resolve, LEAVE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private joined(payload: ConsumerGroupJoinPayload): void {
    if (this.closed) return;
    const owned = new Set<string>();
    for (const a of payload.assignments ?? []) for (const p of a.partitions) owned.add(partitionKey(a.topic, p));
    this.change({ id: payload.generationId ?? this.client.generationId, memberId: payload.memberId, owned });
  }

  private change(next: Generation | undefined): void {
    const previous = this.current;
    if (previous === next) return;
    this.current = next;
    this.options.onChange(previous, next);
  }

  /**
   * Joins again with a new client: the client keeps its group coordinator for good once found
   * (@platformatic/kafka 1.35), so after the coordinator moved (its broker died) only a new
   * client finds the new one. The old client leaves the group if it still can.
   */
  private scheduleRejoin(): void {
    if (this.closed || this.rejoinTimer) return;
    this.rejoinTimer = setTimeout(() => {
      this.rejoinTimer = undefined;
      if (this.closed) return;
      const old = this.client;
      this.client = this.newClient();
      old.close(true, () => undefined);
      this.client.joinGroup({}).catch(() => this.scheduleRejoin());
    }, REJOIN_AFTER_MS);
  }
}

/**
 * Kafka's range assignor: per topic, the members subscribed to it in member-id order each take a
 * contiguous run of partitions, the first `partitions % members` one more than the rest.
 */
export function rangeAssignor(
  _leader: string,
  members: Map<string, ExtendedGroupProtocolSubscription>,
  topics: Set<string>,
  metadata: ClusterMetadata,
): GroupPartitionsAssignments[] {
  const out = new Map<string, GroupPartitionsAssignments>();
  for (const memberId of members.keys()) out.set(memberId, { memberId, assignments: new Map() });
  for (const topic of [...topics].sort()) {
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    const subscribed = [...members.values()].filter((m) => !m.topics || m.topics.includes(topic)).map((m) => m.memberId).sort();
    if (subscribed.length === 0) continue;
    const each = Math.floor(count / subscribed.length);
    const extra = count % subscribed.length;
    let next = 0;
    subscribed.forEach((memberId, i) => {
      const take = each + (i < extra ? 1 : 0);
      const partitions = Array.from({ length: take }, (_, j) => next + j);
      next += take;
      if (partitions.length > 0) out.get(memberId)!.assignments.set(topic, { topic, partitions });
    });
  }
  return [...out.values()];
}
