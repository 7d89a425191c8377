/**
 * The ops numbers on /metrics, from the same reads as /ops.json (`OpsDashboard`): consumer lag
 * and committed offsets per stage (consumer group) and partition, dead-letter and topic
 * totals, and engine health. Throughput is `sluice_stage_records_total` (ops/metrics.ts), a
 * counter for Prometheus' `rate()`.
 *
 * - `sluice_consumer_lag_records` / `sluice_consumer_lag_seconds` / `sluice_consumer_committed_offset{stage,group,topic,partition}`
 * - `sluice_dead_letter_records{topic}`, `sluice_topic_end_offset{topic}`
 * - `sluice_engine_up{engine,kind}` (1 up, 0 down; scanners only when configured) and
 *   `sluice_engine_check_seconds{engine,kind}` (how long the health check took)
 */
import { Gauge, type Registry } from 'prom-client';
import type { OpsDashboard } from './snapshot.ts';

export function registerOpsMetrics(registry: Registry, dashboard: OpsDashboard): void {
  const fromLog = async (): Promise<void> => {
    const { state } = await dashboard.logState(); // the last state read when the log does not answer now
    for (const stage of state.stages) {
      for (const p of stage.partitions) {
        const labels = { stage: stage.stage, group: stage.group, topic: p.topic, partition: String(p.partition) };
        lagRecords.set(labels, p.lagRecords);
        lagSeconds.set(labels, p.lagSeconds);
        committed.set(labels, p.committed);
      }
    }
    for (const t of state.topics) {
      topicEnd.set({ topic: t.topic }, t.end);
      if (t.deadLetters !== undefined) dlq.set({ topic: t.topic }, t.deadLetters);
    }
  };
  const fromEngines = async (): Promise<void> => {
    const engines = await dashboard.engineState();
    up.reset();
    checkSeconds.reset();
    for (const e of engines) {
      if (!e.configured) continue;
      up.set({ engine: e.engine, kind: e.kind }, e.ok ? 1 : 0);
      checkSeconds.set({ engine: e.engine, kind: e.kind }, e.latencyMs / 1000);
    }
  };
  const gauge = (name: string, help: string, labelNames: string[], collect: () => Promise<void>) => new Gauge({ name, help, labelNames, registers: [registry], collect });
  const partitionLabels = ['stage', 'group', 'topic', 'partition'];
  const lagRecords = gauge('sluice_consumer_lag_records', 'Records not yet processed by a stage (its consumer group), per partition', partitionLabels, fromLog);
  const lagSeconds = gauge('sluice_consumer_lag_seconds', 'Age of the oldest record a stage (its consumer group) has not processed, per partition', partitionLabels, fromLog);
  const committed = gauge('sluice_consumer_committed_offset', 'Next offset a stage (its consumer group) will read, per partition: its rate() is the stage\'s cluster-wide throughput', partitionLabels, fromLog);
  const dlq = gauge('sluice_dead_letter_records', 'Records in a dead-letter topic (read and counted: on Kafka, transaction markers are not counted)', ['topic'], fromLog);
  const topicEnd = gauge('sluice_topic_end_offset', 'Records ever appended to a topic (sum of partition end offsets)', ['topic'], fromLog);
  const up = gauge('sluice_engine_up', 'Whether an engine (log, store, search, blobs) or a configured scanner (clamd, rspamd) answered its health check', ['engine', 'kind'], fromEngines);
  const checkSeconds = gauge('sluice_engine_check_seconds', 'How long the engine\'s last health check took', ['engine', 'kind'], fromEngines);
}
