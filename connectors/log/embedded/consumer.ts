/**
 * A consumer of the embedded log. It owns every partition of its topics (one process), keeps
 * its read position in memory (starting at the group's committed offsets) and waits for
 * appends through the log's in-process notifier; appends by another connection to the same file
 * (another process, or a thread of this one) are noticed by the log's one check of SQLite's
 * `data_version` for all its waiting consumers (`ConsumerHost.watch`), and at the poll's timeout.
 */
import type { CommitOffset, Consumer, LogRecord, ProduceRecord } from '../log.ts';

export interface Waiter {
  readonly topics: ReadonlySet<string>;
  /** `data_version` when the consumer last found nothing: a change means another connection wrote since. */
  readonly version: number;
  readonly wake: () => void;
}

/** What a consumer needs from its log. */
export interface ConsumerHost {
  /** Next offset to write per partition, as committed in the file. */
  partitionEnds(topic: string): number[];
  committedOffsets(group: string, topic: string): number[];
  readFrom(topic: string, partition: number, offset: number, max: number): LogRecord[];
  commit(group: string, outputs: readonly ProduceRecord[], offsets: readonly CommitOffset[]): Promise<void>;
  /** Changes when another connection commits to the file. */
  dataVersion(): number;
  /** Wakes `waiter` on an in-process append to one of its topics, or once `dataVersion` differs from its `version`. */
  watch(waiter: Waiter): void;
  unwatch(waiter: Waiter): void;
  forget(consumer: EmbeddedConsumer): void;
}

interface Candidate {
  readonly topic: string;
  readonly partition: number;
  readonly end: number;
}

export class EmbeddedConsumer implements Consumer {
  private readonly topicSet: ReadonlySet<string>;
  /** `${topic}\0${partition}` → next offset to return. */
  private readonly positions = new Map<string, number>();
  /** Partitions held by `pauseAt` (keys as `positions`). */
  private readonly paused = new Set<string>();
  private rotation = 0;
  private closed = false;
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly host: ConsumerHost,
    readonly group: string,
    topics: readonly string[],
  ) {
    this.topicSet = new Set(topics);
  }

  async poll(maxRecords: number, timeoutMs: number): Promise<LogRecord[]> {
    this.assertOpen();
    const max = Math.max(1, Math.floor(maxRecords));
    const deadline = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      const version = this.host.dataVersion();
      const records = this.fetch(max);
      if (records.length > 0) return records;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return records;
      await this.wait(remaining, version);
      if (this.closed) return [];
    }
  }

  async commit(outputs: readonly ProduceRecord[], offsets: readonly CommitOffset[]): Promise<void> {
    this.assertOpen();
    await this.host.commit(this.group, outputs, offsets);
    for (const o of offsets) {
      const key = positionKey(o.topic, o.partition);
      const position = this.positions.get(key);
      if (position !== undefined && position < o.offset) this.positions.set(key, o.offset);
    }
  }

  async rewind(): Promise<void> {
    this.assertOpen();
    // A held partition keeps its hold position (at or after its committed offset).
    for (const key of [...this.positions.keys()]) if (!this.paused.has(key)) this.positions.delete(key);
  }

  pauseAt(position: { topic: string; partition: number; offset: number }): void {
    const key = positionKey(position.topic, position.partition);
    this.positions.set(key, position.offset);
    this.paused.add(key);
  }

  resume(topic: string, partition: number): void {
    this.paused.delete(positionKey(topic, partition));
    this.wakeUp?.();
  }

  seek(position: { topic: string; partition: number; offset: number }): void {
    this.positions.set(positionKey(position.topic, position.partition), Math.max(0, position.offset));
    this.wakeUp?.();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeUp?.();
    this.host.forget(this);
  }

  /** Up to `max` records, shared fairly among the partitions that have any. */
  private fetch(max: number): LogRecord[] {
    const candidates: Candidate[] = [];
    for (const topic of this.topicSet) {
      const ends = this.host.partitionEnds(topic);
      for (let partition = 0; partition < ends.length; partition++) {
        if (this.paused.has(positionKey(topic, partition))) continue;
        if (ends[partition] > this.position(topic, partition)) candidates.push({ topic, partition, end: ends[partition] });
      }
    }
    if (candidates.length === 0) return [];
    const start = this.rotation++ % candidates.length;
    const ordered = [...candidates.slice(start), ...candidates.slice(0, start)];
    const quota = Math.max(1, Math.ceil(max / ordered.length));
    const out: LogRecord[] = [];
    for (const share of [quota, max]) {
      for (const c of ordered) {
        const position = this.position(c.topic, c.partition);
        if (out.length >= max || position >= c.end) continue;
        const records = this.host.readFrom(c.topic, c.partition, position, Math.min(share, max - out.length));
        // Nothing left below the end means retention deleted it: skip ahead.
        const next = records.length > 0 ? records[records.length - 1].offset + 1 : c.end;
        this.positions.set(positionKey(c.topic, c.partition), next);
        for (const r of records) out.push(r);
      }
    }
    return out;
  }

  private position(topic: string, partition: number): number {
    const key = positionKey(topic, partition);
    let position = this.positions.get(key);
    if (position === undefined) {
      const committed = this.host.committedOffsets(this.group, topic);
      committed.forEach((offset, p) => {
        if (!this.positions.has(positionKey(topic, p))) this.positions.set(positionKey(topic, p), offset);
      });
      position = this.positions.get(key) ?? 0;
    }
    return position;
  }

  /** Resolves when an append to one of our topics (or another connection's write since `version`) wakes us, or after `ms`. */
  private wait(ms: number, version: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.host.unwatch(waiter);
        this.wakeUp = undefined;
        resolve();
      };
      const waiter: Waiter = { topics: this.topicSet, version, wake: done };
      const timer = setTimeout(done, ms);
      this.host.watch(waiter);
      this.wakeUp = waiter.wake;
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`consumer of group "${this.group}" is closed`);
  }
}

function positionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
