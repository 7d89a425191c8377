/**
 * What the Kafka connector knows of each topic (id, partition count, partition leaders), from
 * Metadata requests, cached and refreshed on demand: a topic another process grew, or a leader
 * that moved after a broker died, is seen after `refresh`.
 */
import type { Admin } from '@platformatic/kafka';

export interface TopicInfo {
  readonly name: string;
  /** Kafka's topic id (Fetch v13+ names topics by id). */
  readonly id: string;
  readonly partitions: number;
  /** Leader broker of each partition (-1: none right now). */
  readonly leaders: readonly number[];
}

export function unknownTopic(topic: string): Error {
  return new Error(`unknown topic "${topic}" (create it with ensureTopics)`);
}

export function partitionOutOfRange(topic: string, partition: number, partitions: number): Error {
  return new Error(`partition ${partition} out of range for topic "${topic}" (${partitions} partitions)`);
}

/** Closes a client at once, abandoning its requests in flight; never throws. */
export function closeNow(client: { close(force: boolean, callback: (error?: Error | null) => void): void }): Promise<void> {
  return new Promise((resolve) => client.close(true, () => resolve()));
}

/** How long cached metadata is trusted before a lookup asks the cluster again. */
const MAX_AGE_MS = 5_000;

export class TopicDirectory {
  private readonly cache = new Map<string, { info: TopicInfo; at: number }>();

  constructor(private readonly admin: Admin) {}

  /** The topic's metadata; throws `unknown topic` when the cluster has no such topic. */
  async get(topic: string, refresh = false): Promise<TopicInfo> {
    const cached = this.cache.get(topic);
    if (cached && !refresh && Date.now() - cached.at < MAX_AGE_MS) return cached.info;
    const found = await this.lookup(topic);
    if (!found) throw unknownTopic(topic);
    return found;
  }

  /** The topic's metadata, or undefined when it does not exist. */
  async lookup(topic: string): Promise<TopicInfo | undefined> {
    let metadata;
    try {
      metadata = await this.admin.metadata({ topics: [topic], forceUpdate: true });
    } catch (err) {
      if (isUnknownTopic(err)) {
        this.cache.delete(topic);
        return undefined;
      }
      throw err;
    }
    const t = metadata.topics.get(topic);
    if (!t) return undefined;
    const info: TopicInfo = { name: topic, id: t.id, partitions: t.partitionsCount, leaders: t.partitions.map((p) => p.leader) };
    this.cache.set(topic, { info, at: Date.now() });
    return info;
  }

  forget(topic: string): void {
    this.cache.delete(topic);
  }
}

function isUnknownTopic(err: unknown): boolean {
  const message = err instanceof Error ? err.message : '';
  const nested = err instanceof AggregateError ? err.errors.map((e: unknown) => (e instanceof Error ? e.message : '')) : [];
  return [message, ...nested].some((m) => /unknown topic|UNKNOWN_TOPIC_OR_PARTITION|does not host this topic/i.test(m));
}
