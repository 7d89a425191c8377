/**
 * Prometheus metrics (`GET /metrics`): per-stage throughput, dead letters, batch time, the
 * latency from SMTP `250` to each stage, and SMTP counters. Consumer lag, dead-letter totals
 * and engine health, read from the log and the engines at scrape time, are added by
 * `dashboard/metrics.ts` (the same reads as /ops).
 */
import { Registry, Counter, Histogram, Gauge, collectDefaultMetrics } from 'prom-client';
import type { RunnerMetrics } from '../topology/runner.ts';
import { StageThroughput } from './dashboard/throughput.ts';

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

  /** The same counts over the last seconds, for /ops (this process's runner only). */
  readonly throughput = new StageThroughput();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_process_' });
  }

  processed(stage: string, records: number): void {
    this.stageRecords.inc({ stage, outcome: 'ok' }, records);
    this.throughput.records(stage, records);
  }
  deadLettered(stage: string, records: number): void {
    this.stageRecords.inc({ stage, outcome: 'dead_letter' }, records);
    this.throughput.records(stage, records);
  }
  batchSeconds(stage: string, seconds: number): void {
    this.stageBatch.observe({ stage }, seconds);
    this.throughput.batch(stage, seconds);
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
}
