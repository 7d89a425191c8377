/**
 * A log whose topics and consumer groups all carry a name prefix on the underlying log, so that
 * several installations (or test runs) share one Kafka cluster without seeing each other's
 * records: `mail.received` is `<prefix>mail.received` on the brokers, and the `store` stage's
 * group is `<prefix>store`. Callers see the names without the prefix; the underlying log's
 * other topics are invisible through it.
 */
import type { CommitOffset, Consumer, Log, LogRecord, PartitionLag, ProduceRecord, RecordPosition, TopicSpec } from './log.ts';
import type { EngineHealth } from '../health.ts';

export class PrefixedLog implements Log {
  constructor(
    private readonly inner: Log,
    private readonly prefix: string,
  ) {}

  /** The name on the underlying log. */
  private readonly on = (name: string): string => this.prefix + name;
  /** The name as callers know it. */
  private readonly off = (name: string): string => (name.startsWith(this.prefix) ? name.slice(this.prefix.length) : name);

  ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    return this.inner.ensureTopics(specs.map((s) => ({ ...s, name: this.on(s.name) })));
  }

  async produce(records: readonly ProduceRecord[]): Promise<RecordPosition[]> {
    const positions = await this.inner.produce(records.map((r) => ({ ...r, topic: this.on(r.topic) })));
    return positions.map((p) => ({ ...p, topic: this.off(p.topic) }));
  }

  async consumer(group: string, topics: readonly string[]): Promise<Consumer> {
    return new PrefixedConsumer(await this.inner.consumer(this.on(group), topics.map(this.on)), group, this.on, this.off);
  }

  async read(topic: string, partition: number, offset: number, max: number): Promise<LogRecord[]> {
    return (await this.inner.read(this.on(topic), partition, offset, max)).map((r) => ({ ...r, topic: this.off(r.topic) }));
  }

  async topics(): Promise<TopicSpec[]> {
    return (await this.inner.topics()).filter((t) => t.name.startsWith(this.prefix)).map((t) => ({ ...t, name: this.off(t.name) }));
  }

  endOffsets(topic: string): Promise<number[]> {
    return this.inner.endOffsets(this.on(topic));
  }

  committed(group: string, topic: string): Promise<number[]> {
    return this.inner.committed(this.on(group), this.on(topic));
  }

  async lag(group: string, topics: readonly string[]): Promise<PartitionLag[]> {
    return (await this.inner.lag(this.on(group), topics.map(this.on))).map((l) => ({ ...l, group, topic: this.off(l.topic) }));
  }

  enforceRetention(now?: number): Promise<number> {
    return this.inner.enforceRetention(now);
  }

  health(): Promise<EngineHealth> {
    return this.inner.health();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

class PrefixedConsumer implements Consumer {
  constructor(
    private readonly inner: Consumer,
    readonly group: string,
    private readonly on: (name: string) => string,
    private readonly off: (name: string) => string,
  ) {}

  async poll(maxRecords: number, timeoutMs: number): Promise<LogRecord[]> {
    return (await this.inner.poll(maxRecords, timeoutMs)).map((r) => ({ ...r, topic: this.off(r.topic) }));
  }

  commit(outputs: readonly ProduceRecord[], offsets: readonly CommitOffset[]): Promise<void> {
    return this.inner.commit(
      outputs.map((r) => ({ ...r, topic: this.on(r.topic) })),
      offsets.map((o) => ({ ...o, topic: this.on(o.topic) })),
    );
  }

  rewind(): Promise<void> {
    return this.inner.rewind();
  }

  pauseAt(position: RecordPosition): void {
    this.inner.pauseAt({ ...position, topic: this.on(position.topic) });
  }

  resume(topic: string, partition: number): void {
    this.inner.resume(this.on(topic), partition);
  }

  owned(): { topic: string; partition: number }[] {
    return (this.inner.owned?.() ?? []).map((p) => ({ ...p, topic: this.off(p.topic) }));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
