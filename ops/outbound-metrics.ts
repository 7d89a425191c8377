/**
 * `/metrics` for the outgoing queue, read from the log when scraped (at most once a second,
 * shared by all the gauges): what `sluice queue list` shows (ops/queue.ts), and the delivery
 * results on `mail.outbound.results` counted per domain.
 *
 * - `sluice_outbound_queue_messages{stage}` / `sluice_outbound_queue_recipients{stage}`: queued
 *   messages (one per recipient domain) and their recipients, by the stage they wait for
 *   (prepare, scan, deliver, retry-N);
 * - `sluice_outbound_queue_oldest_seconds`: age of the oldest queued message (since its
 *   submission), 0 when the queue is empty;
 * - `sluice_outbound_delivery_failures_total{domain,status}`: recipients whose attempt did not
 *   deliver — `deferred` (temporary), `failed` (permanent), `expired`, `blocked` (virus) —
 *   counted from the results on the log (since its retention), per recipient domain;
 * - `sluice_outbound_delivered_total`: recipients delivered.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Log } from '../connectors/log/log.ts';
import { schemaType } from '../schemas/registry.ts';
import type { DeliveryResult } from '../schemas/types.ts';
import { OutboundQueue, RESULTS_TOPIC, type QueueTopic } from './queue.ts';

const REFRESH_MS = 1000;
const FAILURES = new Set(['deferred', 'failed', 'expired', 'blocked']);

export function watchOutboundQueue(registry: Registry, log: Log, topics: readonly QueueTopic[], now: () => number = Date.now): void {
  if (topics.length === 0) return;
  const queue = new OutboundQueue(log, topics);
  const resultType = schemaType('DeliveryResult');
  const resultsRead = new Map<number, number>();
  let refreshing: Promise<void> | undefined;
  let refreshedAt = 0;
  const collect = async (): Promise<void> => {
    if (!refreshing && Date.now() - refreshedAt < REFRESH_MS) return;
    refreshing ??= refresh().finally(() => {
      refreshing = undefined;
      refreshedAt = Date.now();
    });
    await refreshing;
  };
  const messages = new Gauge({ name: 'sluice_outbound_queue_messages', help: 'Queued outgoing messages (one per recipient domain), by the stage they wait for', labelNames: ['stage'], registers: [registry], collect });
  const recipients = new Gauge({ name: 'sluice_outbound_queue_recipients', help: 'Recipients of the queued outgoing messages, by the stage they wait for', labelNames: ['stage'], registers: [registry], collect });
  const oldest = new Gauge({ name: 'sluice_outbound_queue_oldest_seconds', help: 'Age since submission of the oldest queued outgoing message (0: queue empty)', registers: [registry], collect });
  const failures = new Counter({ name: 'sluice_outbound_delivery_failures_total', help: 'Recipients whose delivery attempt did not succeed, by recipient domain and status (deferred, failed, expired, blocked)', labelNames: ['domain', 'status'], registers: [registry], collect });
  const delivered = new Counter({ name: 'sluice_outbound_delivered_total', help: 'Recipients delivered to the remote server', registers: [registry], collect });

  async function refresh(): Promise<void> {
    const entries = await queue.list();
    messages.reset();
    recipients.reset();
    for (const q of topics) {
      messages.set({ stage: q.stage }, 0);
      recipients.set({ stage: q.stage }, 0);
    }
    for (const e of entries) {
      messages.inc({ stage: e.stage });
      recipients.inc({ stage: e.stage }, e.mail.recipients.length);
    }
    const first = entries.reduce((min, e) => Math.min(min, e.mail.submittedAt), Infinity);
    oldest.set(Number.isFinite(first) ? Math.max(0, (now() - first) / 1000) : 0);
    // The results only grow: read what was appended since the last scrape.
    const ends = await log.endOffsets(RESULTS_TOPIC);
    for (let partition = 0; partition < ends.length; partition++) {
      for (let offset = resultsRead.get(partition) ?? 0; offset < ends[partition]; ) {
        const records = await log.read(RESULTS_TOPIC, partition, offset, 1000);
        if (records.length === 0) break;
        for (const r of records) {
          const v = resultType.fromBuffer(r.value) as DeliveryResult;
          if (v.status === 'delivered') delivered.inc();
          else if (FAILURES.has(v.status)) failures.inc({ domain: v.domain, status: v.status });
        }
        offset = records[records.length - 1].offset + 1;
        resultsRead.set(partition, offset);
      }
    }
  }
}
