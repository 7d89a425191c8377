/**
 * Producing to Kafka: `ProduceRecord`s checked and turned into the client's messages, and a
 * queue that gathers the `produce()` calls of one tick into one Produce request of an idempotent
 * producer with `acks=all` (group commit, as the embedded log gathers calls into one fsync).
 *
 * One request is in flight at a time: the client numbers an idempotent producer's batches per
 * partition and advances the sequence only when a response arrives, so two concurrent sends of
 * one producer would reuse a sequence number. After a failed request the producer is replaced
 * (a new producer id starts its sequences afresh); the calls in it are rejected, and their
 * records may or may not have been written, as with any client whose request timed out.
 */
import type { MessageToProduce, Producer } from '@platformatic/kafka';
import { partitionFor } from '../log.ts';
import type { ProduceRecord, RecordPosition } from '../log.ts';
import { closeNow, partitionOutOfRange } from './topics.ts';
import type { TopicDirectory } from './topics.ts';

export type KafkaMessage = MessageToProduce<Buffer, Buffer, Buffer, Buffer> & { readonly topic: string; readonly partition: number };

/** Validates `records` (topics exist, partitions in range) and maps them to Kafka messages. */
export async function toMessages(records: readonly ProduceRecord[], topics: TopicDirectory): Promise<KafkaMessage[]> {
  const out: KafkaMessage[] = [];
  for (const record of records) {
    if (typeof record.key !== 'string') throw new Error(`record key for topic "${record.topic}" must be a string`);
    if (!(record.value instanceof Uint8Array)) throw new Error(`record value for topic "${record.topic}" must be a Buffer`);
    if (record.timestamp !== undefined && !Number.isFinite(record.timestamp)) {
      throw new Error(`record timestamp for topic "${record.topic}" must be a finite number`);
    }
    let info = await topics.get(record.topic);
    if (record.partition !== undefined && record.partition >= info.partitions) info = await topics.get(record.topic, true);
    const partition = record.partition ?? partitionFor(record.key, info.partitions);
    if (!Number.isInteger(partition) || partition < 0 || partition >= info.partitions) {
      throw partitionOutOfRange(record.topic, partition, info.partitions);
    }
    const headers = new Map<Buffer, Buffer>();
    for (const [k, v] of Object.entries(record.headers ?? {})) headers.set(Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8'));
    out.push({
      topic: record.topic,
      partition,
      key: Buffer.from(record.key, 'utf8'),
      value: Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength),
      headers,
      timestamp: BigInt(Math.trunc(record.timestamp ?? Date.now())),
    });
  }
  return out;
}

/** The offset of each message of one Produce request: base offset of its partition + its rank there. */
export function positionsOf(messages: readonly KafkaMessage[], bases: ReadonlyMap<string, bigint>): RecordPosition[] {
  const rank = new Map<string, number>();
  return messages.map((m) => {
    const key = `${m.topic}:${m.partition}`;
    const base = bases.get(key);
    if (base === undefined) throw new Error(`Kafka returned no offset for ${m.topic}[${m.partition}]`);
    const n = rank.get(key) ?? 0;
    rank.set(key, n + 1);
    return { topic: m.topic, partition: m.partition, offset: Number(base) + n };
  });
}

interface Pending {
  readonly messages: KafkaMessage[];
  readonly bytes: number;
  readonly resolve: (positions: RecordPosition[]) => void;
  readonly reject: (err: Error) => void;
}

/** Kafka refuses a record batch above the topic's max.message.bytes (1 MiB by default). */
export const MAX_REQUEST_BYTES = 768 * 1024;

/** Bytes a message takes in a record batch, roughly (key, value, headers, per-record overhead). */
export function messageBytes(m: KafkaMessage): number {
  let headers = 0;
  for (const [k, v] of m.headers instanceof Map ? m.headers : []) headers += (k?.length ?? 0) + (v?.length ?? 0) + 8;
  return (m.value?.length ?? 0) + (m.key?.length ?? 0) + headers + 64;
}

/**
 * `messages` cut, in order, into runs of at most `maxBytes` each (a message larger than that
 * alone in its run): the client puts all of one send's messages for a partition into one record
 * batch, which the broker refuses above max.message.bytes (MESSAGE_TOO_LARGE) — a stage working
 * off a backlog in batches of 256 records of a few KB each would otherwise be stuck for good.
 */
export function chunkByBytes(messages: readonly KafkaMessage[], maxBytes = MAX_REQUEST_BYTES): KafkaMessage[][] {
  const chunks: KafkaMessage[][] = [];
  let current: KafkaMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = messageBytes(m);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export class ProduceQueue {
  private producer: Producer<Buffer, Buffer, Buffer, Buffer> | undefined;
  private queue: Pending[] = [];
  private sending = false;
  private scheduled = false;

  constructor(private readonly newProducer: () => Producer<Buffer, Buffer, Buffer, Buffer>) {}

  send(messages: KafkaMessage[]): Promise<RecordPosition[]> {
    return new Promise((resolve, reject) => {
      const bytes = messages.reduce((n, m) => n + (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64, 0);
      this.queue.push({ messages, bytes, resolve, reject });
      this.schedule();
    });
  }

  /** Waits for queued sends, then closes the producer. */
  async close(): Promise<void> {
    while (this.queue.length > 0 || this.sending) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.producer?.close().catch(() => undefined);
    this.producer = undefined;
  }

  private schedule(): void {
    if (this.scheduled || this.sending) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    const batch: Pending[] = [];
    let bytes = 0;
    while (this.queue.length > 0 && (batch.length === 0 || bytes + this.queue[0].bytes <= MAX_REQUEST_BYTES)) {
      const next = this.queue.shift()!;
      batch.push(next);
      bytes += next.bytes;
    }
    const messages = batch.flatMap((p) => p.messages);
    try {
      this.producer ??= this.newProducer();
      const result = await this.producer.send({ messages });
      const bases = new Map((result.offsets ?? []).map((o) => [`${o.topic}:${o.partition}`, o.offset]));
      const positions = positionsOf(messages, bases);
      let at = 0;
      for (const p of batch) {
        p.resolve(positions.slice(at, at + p.messages.length));
        at += p.messages.length;
      }
    } catch (err) {
      const failed = this.producer;
      this.producer = undefined;
      if (failed) await closeNow(failed);
      for (const p of batch) p.reject(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.sending = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
