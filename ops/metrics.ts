/**
 * Prometheus metrics (`GET /metrics`): per-stage throughput, dead letters, batch time, the
 * latency from SMTP `250` to each stage, consumer lag in records and seconds (read from the
 * log at scrape time), and SMTP counters.
 */
import { Registry, Counter, Histogram, Gauge, collectDefaultMetrics } from 'prom-client';
import type { Log } from '../connectors/log/log.ts';
import type { RunnerMetrics } from '../topology/runner.ts';
import type { Topology } from '../topology/model.ts';
import { stageGroup } from '../topology/runner.ts';

const LAG_REFRESH_MS = 250;
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60];

export class Metrics implements RunnerMetrics {
  readonly registry = new Registry();
  private readonly stageRecords = new Counter({ name: 'sluice_stage_records_total', help: 'Records processed by a stage, by outcome', labelNames: ['stage', 'outcome'], registers: [this.registry] });
  private readonly stageBatch = new Histogram({ name: 'sluice_stage_batch_seconds', help: 'Time to process and commit one batch', labelNames: ['stage'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly sinceReceivedHist = new Histogram({ name: 'sluice_since_received_seconds', help: 'From the SMTP 250 (ingress) to the end of a stage: for stage "index", 250 to searchable', labelNames: ['stage'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly stageRetries = new Counter({ name: 'sluice_stage_retries_total', help: 'Batches retried after a passing failure', labelNames: ['stage'], registers: [this.registry] });
  private readonly stageOwned = new Gauge({ name: 'sluice_stage_owned_partitions', help: "Partitions of a stage's input this process reads (its share of the consumer group; Kafka only)", labelNames: ['stage'], registers: [this.registry] });
  private readonly stageRebalances = new Counter({ name: 'sluice_stage_rebalances_total', help: 'Batches discarded because their partitions moved to another process (rebalance)', labelNames: ['stage'], registers: [this.registry] });
  readonly smtpMessages = new Counter({ name: 'sluice_smtp_messages_total', help: 'SMTP replies: accepted messages, and rejected (5xx) or deferred (4xx) commands', labelNames: ['listener', 'outcome'], registers: [this.registry] });
  /** 1 when the scanner is configured; 0: mail is stored marked "not scanned" (clamd) or without rspamd's verdict. */
  readonly scanConfigured = new Gauge({ name: 'sluice_scan_configured', help: 'Whether a scanner is configured (scan.clamd, scan.rspamd): 0 means mail passes that check unscanned', labelNames: ['scanner'], registers: [this.registry] });
  readonly smtpRecipients = new Counter({ name: 'sluice_smtp_recipients_total', help: 'Accepted recipients (mail.received records)', labelNames: ['listener'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_process_' });
  }

  processed(stage: string, records: number): void {
    this.stageRecords.inc({ stage, outcome: 'ok' }, records);
  }
  deadLettered(stage: string, records: number): void {
    this.stageRecords.inc({ stage, outcome: 'dead_letter' }, records);
  }
  batchSeconds(stage: string, seconds: number): void {
    this.stageBatch.observe({ stage }, seconds);
  }
  sinceReceived(stage: string, seconds: number): void {
    this.sinceReceivedHist.observe({ stage }, seconds);
  }
  retried(stage: string): void {
    this.stageRetries.inc({ stage });
  }
  ownedPartitions(stage: string, partitions: number): void {
    this.stageOwned.set({ stage }, partitions);
  }
  rebalanced(stage: string): void {
    this.stageRebalances.inc({ stage });
  }

  /** Lag gauges and dead-letter totals, read from the log whenever /metrics is scraped. */
  watchLog(log: Log, topologies: readonly Topology[]): void {
    let refreshing: Promise<void> | undefined;
    let refreshedAt = 0;
    // One read of the log per scrape, shared by the gauges' collect callbacks, and at most one
    // per `LAG_REFRESH_MS` however often /metrics is scraped (lag reads touch every partition).
    const collect = async (): Promise<void> => {
      if (!refreshing && Date.now() - refreshedAt < LAG_REFRESH_MS) return;
      refreshing ??= refresh().finally(() => {
        refreshing = undefined;
        refreshedAt = Date.now();
      });
      await refreshing;
    };
    const gauge = (name: string, help: string, labelNames: string[]) => new Gauge({ name, help, labelNames, registers: [this.registry], collect });
    const lagRecords = gauge('sluice_consumer_lag_records', 'Records not yet processed by a stage, per partition', ['stage', 'topic', 'partition']);
    const lagSeconds = gauge('sluice_consumer_lag_seconds', 'Age of the oldest record a stage has not processed, per partition', ['stage', 'topic', 'partition']);
    const dlq = gauge('sluice_dead_letter_records', 'Records in a dead-letter topic', ['topic']);
    const topicEnd = gauge('sluice_topic_end_offset', 'Records ever appended to a topic (sum of partition end offsets)', ['topic']);
    const refresh = async (): Promise<void> => {
      for (const topology of topologies) {
        for (const stage of topology.stages) {
          for (const p of await log.lag(stageGroup(topology, stage), [stage.from])) {
            const labels = { stage: stage.name, topic: p.topic, partition: String(p.partition) };
            lagRecords.set(labels, p.records);
            lagSeconds.set(labels, p.seconds);
          }
        }
        for (const topic of topology.topics.values()) {
          const end = (await log.endOffsets(topic.name)).reduce((a, b) => a + b, 0);
          topicEnd.set({ topic: topic.name }, end);
          if (topic.schema === 'DeadLetter') dlq.set({ topic: topic.name }, end);
        }
      }
    };
  }
}
