/**
 * The outgoing queue, read from the log (topology/outbound.yaml, "the queue model"): a queued
 * message is a MailOutbound record that the stage reading its topic has not committed yet —
 * `[committed(group), end)` of every topic a MailOutbound stage reads — less the records an
 * operator cancelled (connectors/queue-control.ts). `sluice queue` and the `/metrics` gauges
 * both read it here; nothing in this file needs the server stopped.
 *
 * - `retryNow`: for a record waiting in a retry topic, one append of a copy with `notBefore` 0 to
 *   that retry stage's output (the deliver stage's input) and a `retry-now` mark on the original.
 * - `drop`: one append of a `drop` mark, and with `bounce` a failure DSN to the sender and a
 *   `dropped` delivery result per recipient. Without `bounce` the sender is not told (as
 *   Postfix's `postsuper -d`).
 * Both are idempotent: the marked record no longer counts as queued, and a second call finds
 * nothing to do.
 */
import type { Log, ProduceRecord, RecordPosition } from '../connectors/log/log.ts';
import type { BlobStore } from '../connectors/blob/blob.ts';
import type { Topology } from '../topology/model.ts';
import { stageGroup } from '../topology/runner.ts';
import { LogQueueControl } from '../connectors/queue-control.ts';
import { schemaType } from '../schemas/registry.ts';
import type { DeliveryResult, MailOutbound, QueueControl } from '../schemas/types.ts';
import { dsnRecord } from '../processors/outbound/notify.ts';

export const RESULTS_TOPIC = 'mail.outbound.results';

/** A topic of the queue and the stage (consumer group) that takes records off it. */
export interface QueueTopic {
  readonly topic: string;
  readonly stage: string;
  readonly group: string;
  /** The stage holds records until their `notBefore` (a retry topic). */
  readonly waits: boolean;
  /** Where the stage sends what it passes on (for a retry stage: the deliver stage's input). */
  readonly next: string | undefined;
}

export interface QueueEntry {
  readonly id: string;
  readonly position: RecordPosition;
  readonly stage: string;
  readonly waits: boolean;
  readonly next: string | undefined;
  readonly key: string;
  /** When the record was appended (ms). */
  readonly appendedAt: number;
  readonly mail: MailOutbound;
}

/** Every stage of every topology whose input topic carries MailOutbound. */
export function queueTopics(topologies: readonly Topology[]): QueueTopic[] {
  const out: QueueTopic[] = [];
  for (const t of topologies) {
    for (const stage of t.stages) {
      if (t.topics.get(stage.from)?.schema !== 'MailOutbound') continue;
      out.push({ topic: stage.from, stage: stage.name, group: stageGroup(t, stage), waits: stage.waitUntil !== undefined, next: stage.to[0] });
    }
  }
  return out;
}

export class OutboundQueue {
  readonly control: LogQueueControl;
  private readonly outboundType = schemaType('MailOutbound');

  constructor(
    private readonly log: Log,
    readonly topics: readonly QueueTopic[],
  ) {
    this.control = new LogQueueControl(log);
  }

  /** Every queued record, oldest submission first. */
  async list(): Promise<QueueEntry[]> {
    const marks = await this.control.all();
    const entries: QueueEntry[] = [];
    for (const q of this.topics) {
      const ends = await this.log.endOffsets(q.topic);
      const committed = await this.log.committed(q.group, q.topic);
      for (let partition = 0; partition < ends.length; partition++) {
        for (let offset = committed[partition] ?? 0; offset < ends[partition]; ) {
          const records = await this.log.read(q.topic, partition, offset, 500);
          if (records.length === 0) break;
          for (const r of records) {
            if (marks.has(LogQueueControl.key(r))) continue;
            const mail = this.outboundType.fromBuffer(r.value) as MailOutbound;
            entries.push({ id: mail.outboundId, position: { topic: r.topic, partition: r.partition, offset: r.offset }, stage: q.stage, waits: q.waits, next: q.next, key: r.key, appendedAt: r.timestamp, mail });
          }
          offset = records[records.length - 1].offset + 1;
        }
      }
    }
    return entries.sort((a, b) => a.mail.submittedAt - b.mail.submittedAt || a.id.localeCompare(b.id));
  }

  /** The queued entries `id` names: the exact outbound id, else those it is a prefix of. */
  async find(id: string): Promise<QueueEntry[]> {
    const all = await this.list();
    const exact = all.filter((e) => e.id === id);
    return exact.length ? exact : all.filter((e) => e.id.startsWith(id));
  }

  /** The delivery results of `id` (exact outbound id, or its ingress-id prefix), in log order. */
  async history(id: string): Promise<DeliveryResult[]> {
    const type = schemaType('DeliveryResult');
    const out: DeliveryResult[] = [];
    const ends = await this.log.endOffsets(RESULTS_TOPIC);
    for (let partition = 0; partition < ends.length; partition++) {
      for (let offset = 0; offset < ends[partition]; ) {
        const records = await this.log.read(RESULTS_TOPIC, partition, offset, 1000);
        if (records.length === 0) break;
        for (const r of records) {
          const v = type.fromBuffer(r.value) as DeliveryResult;
          if (v.outboundId === id || v.outboundId.startsWith(id)) out.push(v);
        }
        offset = records[records.length - 1].offset + 1;
      }
    }
    return out.sort((a, b) => a.at - b.at);
  }

  /** The marks an operator left on `outboundId`. */
  async marks(outboundId: string): Promise<QueueControl[]> {
    return [...(await this.control.all()).values()].filter((m) => m.outboundId === outboundId);
  }

  /**
   * Makes a record waiting in a retry topic due now. Returns what happened; `already-due` when the
   * record is not waiting (in prepare/scan/deliver's input, or due within `marginMs`).
   */
  async retryNow(entry: QueueEntry, by: string, now = Date.now(), marginMs = 2000): Promise<'retried' | 'already-due'> {
    if (!entry.waits || !entry.next || entry.mail.notBefore <= now + marginMs) return 'already-due';
    const mark: QueueControl = { action: 'retry-now', outboundId: entry.id, ...entry.position, bounce: false, by, at: now };
    const copy: ProduceRecord = {
      topic: entry.next,
      key: entry.key,
      value: this.outboundType.toBuffer({ ...entry.mail, notBefore: 0 }),
      headers: { 'queue-retry-now-of': `${entry.position.topic}/${entry.position.partition}/${entry.position.offset}` },
    };
    await this.control.ensureTopic();
    // One append: the copy exists exactly when the original is marked.
    await this.log.produce([this.control.record(mark), copy]);
    return 'retried';
  }

  /** Removes a record from the queue; with `bounce`, the sender gets a failure DSN (RFC 3464). */
  async drop(entry: QueueEntry, options: { by: string; bounce: boolean; blobs?: BlobStore; hostname?: string; receivedTopic?: string; now?: number }): Promise<void> {
    const now = options.now ?? Date.now();
    const mark: QueueControl = { action: 'drop', outboundId: entry.id, ...entry.position, bounce: options.bounce, by: options.by, at: now };
    const records: ProduceRecord[] = [this.control.record(mark)];
    const resultType = schemaType('DeliveryResult');
    const reason = `removed from the queue by the postmaster${options.by ? ` (${options.by})` : ''}`;
    for (const recipient of entry.mail.recipients) {
      const result: DeliveryResult = {
        outboundId: entry.id, ingressId: entry.mail.ingressId, userId: entry.mail.userId, domain: entry.mail.domain, recipient,
        attempt: entry.mail.attempt, status: 'dropped', code: 0, response: reason, host: '', at: now, nextAttemptAt: 0,
      };
      records.push({ topic: RESULTS_TOPIC, key: entry.key, value: resultType.toBuffer(result) });
    }
    if (options.bounce) {
      if (!options.blobs || !options.hostname) throw new Error('drop --bounce needs the blob store and the hostname');
      // RFC 3463 §3.2 X.0.0: other undefined status, the postmaster's decision.
      const recipients = entry.mail.recipients.map((recipient) => ({ recipient, status: '5.0.0', diagnostic: reason, diagnosticType: 'x-sluice' as const }));
      const dsn = await dsnRecord(options.blobs, { mail: entry.mail, action: 'failed', recipients, tag: `dropped-${entry.mail.attempt}`, hostname: options.hostname, now });
      records.push({ topic: options.receivedTopic ?? 'mail.received', key: dsn.userId, value: schemaType('MailReceived').toBuffer(dsn) });
    }
    await this.control.ensureTopic();
    await this.log.produce(records);
  }
}

/** The last temporary failure of each recipient, for display. */
export function lastError(mail: MailOutbound): string {
  const replies = [...new Set(Object.values(mail.lastResponses))];
  return replies.join('; ');
}
