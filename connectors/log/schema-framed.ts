/**
 * A log whose record values carry, on the underlying log, the registry id of the schema they
 * were written with (Confluent wire format: schemas/confluent-wire.ts), so that any reader — a
 * later version of Sluice, another team's consumer, a Kafka tool — knows how to decode them
 * (DESIGN.md §1.4, "schemas" in the distributed mode).
 *
 * Callers see what they see on every log: the Avro binary of each topic's current schema
 * (`schemas/*.avsc`, named per topic by the topology files). At open, every topic's schema is
 * registered under the subject `<subjectPrefix><topic>-value` with compatibility BACKWARD, so a
 * new version that the current readers could not read is refused there, at start. Then:
 * - produce / commit: the value gets the frame of its topic's schema id;
 * - poll / read: the frame comes off; a value written with another version of the schema (an
 *   older Sluice, before a field was added) is resolved to the current one (Avro schema
 *   resolution, avsc `createResolver`), the writer's schema fetched by id from the registry once;
 * - a value that cannot be read so (no frame, an id the registry does not know, a writer schema
 *   the current one cannot resolve) comes back with `error` set and its bytes as stored: the
 *   runner dead-letters it like any other record it cannot decode; it never stops the partition.
 * A registry that does not answer is not the record's fault: poll and read then throw, and the
 * runner retries the batch with backoff.
 */
import avro from 'avsc';
import type { CommitOffset, Consumer, Log, LogRecord, PartitionLag, ProduceRecord, RecordPosition, TopicSpec } from './log.ts';
import type { EngineHealth } from '../health.ts';
import { frame, FrameError, unframe } from './schemas/confluent-wire.ts';
import { SchemaNotFoundError, SchemaRegistryError, type SchemaRegistry } from './schemas/registry-client.ts';

export interface SchemaFramedLogOptions {
  readonly inner: Log;
  /** Each topic's current schema: values are written with it and read as it. */
  readonly topics: ReadonlyMap<string, avro.Type>;
  readonly registry: SchemaRegistry;
  /** Put before `<topic>-value` in subject names: the Kafka topic prefix, so a subject names its topic on the brokers. */
  readonly subjectPrefix?: string;
}

/** A record written with a schema that the topic's current schema cannot read (Avro schema resolution). */
export class SchemaResolutionError extends Error {
  constructor(topic: string, id: number, cause: unknown) {
    super(`a record of ${topic} written with schema id ${id} cannot be read with the topic's current schema: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'SchemaResolutionError';
  }
}

/** The schema as registered: avsc's canonical JSON with defaults, docs and aliases kept. */
export function registeredSchema(type: avro.Type): string {
  return JSON.stringify(type.schema({ exportAttrs: true }));
}

export class SchemaFramedLog implements Log {
  /** Topic → id of its current schema. */
  private readonly ids = new Map<string, number>();
  /** Writer schemas by id (fetched once; a failed fetch is forgotten, so it is tried again). */
  private readonly writers = new Map<number, Promise<avro.Type>>();
  /** `<topic>\0<writer id>` → resolver from that writer schema to the topic's current one. */
  private readonly resolvers = new Map<string, avro.Resolver>();

  private constructor(private readonly options: SchemaFramedLogOptions) {}

  /** Registers every topic's schema (compatibility BACKWARD), then frames and unframes on `inner`. */
  static async open(options: SchemaFramedLogOptions): Promise<SchemaFramedLog> {
    const log = new SchemaFramedLog(options);
    await log.registerAll();
    return log;
  }

  /** The registry subject of `topic`'s values. */
  subject(topic: string): string {
    return `${this.options.subjectPrefix ?? ''}${topic}-value`;
  }

  /** The id `topic`'s records are framed with. */
  schemaId(topic: string): number {
    const id = this.ids.get(topic);
    if (id === undefined) throw new Error(`no schema is known for topic ${topic}: a topic of the framed log is declared in a topology file`);
    return id;
  }

  // One at a time: Apicurio 2.4 races on concurrent registrations (409 "artifact already
  // exists" for a subject registered once), even of different subjects.
  private async registerAll(): Promise<void> {
    for (const topic of this.options.topics.keys()) await this.register(topic);
  }

  /** Registers `topic`'s schema (of `topics`) under its subject, compatibility BACKWARD; its id. */
  async register(topic: string): Promise<number> {
    const type = this.options.topics.get(topic);
    if (!type) throw new Error(`no schema is known for topic ${topic}`);
    const subject = this.subject(topic);
    await this.options.registry.setCompatibility(subject, 'BACKWARD');
    const id = await this.options.registry.register(subject, registeredSchema(type));
    this.ids.set(topic, id);
    return id;
  }

  private framed(record: ProduceRecord): ProduceRecord {
    return { ...record, value: frame(this.schemaId(record.topic), record.value) };
  }

  /** The record as callers read it: unframed and in the topic's current schema, or with `error`. */
  async readable(record: LogRecord): Promise<LogRecord> {
    const current = this.options.topics.get(record.topic);
    if (!current) return { ...record, error: new Error(`no schema is known for topic ${record.topic}`) };
    let id: number;
    let payload: Buffer;
    try {
      ({ id, payload } = unframe(record.value));
    } catch (err) {
      if (err instanceof FrameError) return { ...record, error: err };
      throw err;
    }
    if (id === this.ids.get(record.topic)) return { ...record, value: payload };
    try {
      const resolver = await this.resolver(record.topic, current, id);
      return { ...record, value: current.toBuffer(current.fromBuffer(payload, resolver)) };
    } catch (err) {
      if (err instanceof SchemaRegistryError) throw err; // the registry's trouble, not the record's
      const error = err instanceof SchemaNotFoundError || err instanceof SchemaResolutionError ? err : new SchemaResolutionError(record.topic, id, err);
      return { ...record, error };
    }
  }

  private async resolver(topic: string, current: avro.Type, id: number): Promise<avro.Resolver> {
    const key = `${topic}\u0000${id}`;
    let resolver = this.resolvers.get(key);
    if (!resolver) {
      const writer = await this.writer(id);
      try {
        resolver = current.createResolver(writer);
      } catch (err) {
        throw new SchemaResolutionError(topic, id, err);
      }
      this.resolvers.set(key, resolver);
    }
    return resolver;
  }

  private writer(id: number): Promise<avro.Type> {
    let writer = this.writers.get(id);
    if (!writer) {
      writer = this.options.registry.schema(id).then((text) => avro.Type.forSchema(JSON.parse(text) as avro.Schema));
      this.writers.set(id, writer);
      writer.catch(() => this.writers.delete(id));
    }
    return writer;
  }

  private readableAll(records: readonly LogRecord[]): Promise<LogRecord[]> {
    return Promise.all(records.map((r) => this.readable(r)));
  }

  ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    return this.options.inner.ensureTopics(specs);
  }

  // async: a topic without a schema rejects the promise, as the other logs' unknown topics do.
  async produce(records: readonly ProduceRecord[]): Promise<RecordPosition[]> {
    return this.options.inner.produce(records.map((r) => this.framed(r)));
  }

  async consumer(group: string, topics: readonly string[]): Promise<Consumer> {
    const inner = await this.options.inner.consumer(group, topics);
    return new SchemaFramedConsumer(inner, this);
  }

  async read(topic: string, partition: number, offset: number, max: number): Promise<LogRecord[]> {
    return this.readableAll(await this.options.inner.read(topic, partition, offset, max));
  }

  topics(): Promise<TopicSpec[]> {
    return this.options.inner.topics();
  }

  endOffsets(topic: string): Promise<number[]> {
    return this.options.inner.endOffsets(topic);
  }

  committed(group: string, topic: string): Promise<number[]> {
    return this.options.inner.committed(group, topic);
  }

  lag(group: string, topics: readonly string[]): Promise<PartitionLag[]> {
    return this.options.inner.lag(group, topics);
  }

  enforceRetention(now?: number): Promise<number> {
    return this.options.inner.enforceRetention(now);
  }

  health(): Promise<EngineHealth> {
    return this.options.inner.health();
  }

  close(): Promise<void> {
    return this.options.inner.close();
  }

  /** For the consumer: the framing of its outputs and the reading of its records. */
  frameAll(records: readonly ProduceRecord[]): ProduceRecord[] {
    return records.map((r) => this.framed(r));
  }

  unframeAll(records: readonly LogRecord[]): Promise<LogRecord[]> {
    return this.readableAll(records);
  }
}

class SchemaFramedConsumer implements Consumer {
  constructor(
    private readonly inner: Consumer,
    private readonly log: SchemaFramedLog,
  ) {}

  get group(): string {
    return this.inner.group;
  }

  async poll(maxRecords: number, timeoutMs: number): Promise<LogRecord[]> {
    return this.log.unframeAll(await this.inner.poll(maxRecords, timeoutMs));
  }

  async commit(outputs: readonly ProduceRecord[], offsets: readonly CommitOffset[]): Promise<void> {
    return this.inner.commit(this.log.frameAll(outputs), offsets);
  }

  rewind(): Promise<void> {
    return this.inner.rewind();
  }

  pauseAt(position: RecordPosition): void {
    this.inner.pauseAt(position);
  }

  resume(topic: string, partition: number): void {
    this.inner.resume(topic, partition);
  }

  owned(): { topic: string; partition: number }[] {
    return this.inner.owned?.() ?? [];
  }

  seek(position: RecordPosition): void {
    this.inner.seek(position);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
