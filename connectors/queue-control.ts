/**
 * The outgoing queue's control marks (topology/outbound.yaml, "the queue model"): the log cannot
 * delete a record, so `sluice queue drop` and `retry-now` append a QueueControl record to
 * `mail.outbound.control` naming the pending record's position, and every stage that reads
 * MailOutbound skips a record so named (processors/skip-cancelled.ts). Written and read through
 * the Log interface only: the same on the embedded log (a second process may write while the
 * server runs) and on Kafka.
 */
import type { Log, RecordPosition, TopicSpec } from './log/log.ts';
import { schemaType } from '../schemas/registry.ts';
import type { QueueControl } from '../schemas/types.ts';

export const QUEUE_CONTROL_TOPIC: TopicSpec = { name: 'mail.outbound.control', partitions: 1, retentionMs: 30 * 86_400_000 };
/** The Avro schema of its records (no topology file declares this topic). */
export const QUEUE_CONTROL_SCHEMA = 'QueueControl';

/** What the stages ask: is the record at this position cancelled (dropped, or retried as a copy)? */
export interface QueueControlReader {
  cancelled(position: RecordPosition): Promise<QueueControl | undefined>;
}

function positionKey(p: RecordPosition): string {
  return `${p.topic}\0${p.partition}\0${p.offset}`;
}

/** The marks on the log, read again whenever the control topic has grown. */
export class LogQueueControl implements QueueControlReader {
  private readonly type = schemaType(QUEUE_CONTROL_SCHEMA);
  private readonly marks = new Map<string, QueueControl>();
  private readNext = 0;
  /** The topic exists once a queue command has written to it; until then there are no marks. */
  private exists = false;

  constructor(private readonly log: Log) {}

  private refreshing: Promise<void> | undefined;

  /** Reads the marks appended since the last call; concurrent callers (a batch) share one read. */
  private refresh(): Promise<void> {
    this.refreshing ??= this.readNew().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async readNew(): Promise<void> {
    if (!this.exists) {
      this.exists = (await this.log.topics()).some((t) => t.name === QUEUE_CONTROL_TOPIC.name);
      if (!this.exists) return;
    }
    const [end] = await this.log.endOffsets(QUEUE_CONTROL_TOPIC.name);
    while (this.readNext < end) {
      const records = await this.log.read(QUEUE_CONTROL_TOPIC.name, 0, this.readNext, 1000);
      if (records.length === 0) break;
      for (const r of records) {
        const mark = this.type.fromBuffer(r.value) as QueueControl;
        if (!this.marks.has(positionKey(mark))) this.marks.set(positionKey(mark), mark);
      }
      this.readNext = records[records.length - 1].offset + 1;
    }
  }

  async cancelled(position: RecordPosition): Promise<QueueControl | undefined> {
    await this.refresh();
    return this.marks.get(positionKey(position));
  }

  /** Every mark, by position (the queue tools and metrics leave these records out). */
  async all(): Promise<ReadonlyMap<string, QueueControl>> {
    await this.refresh();
    return this.marks;
  }

  static key(position: RecordPosition): string {
    return positionKey(position);
  }

  /** The record that appends `mark` (produce it together with any copy, in one append). */
  record(mark: QueueControl): { topic: string; key: string; value: Buffer } {
    return { topic: QUEUE_CONTROL_TOPIC.name, key: mark.outboundId, value: this.type.toBuffer(mark) };
  }

  /** Creates the topic (the writers: `sluice queue retry-now | drop`). */
  async ensureTopic(): Promise<void> {
    await this.log.ensureTopics([QUEUE_CONTROL_TOPIC]);
    this.exists = true;
  }
}
