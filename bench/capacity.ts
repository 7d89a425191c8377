/**
 * The capacity arithmetic for the seed's load (mission/seed-email-system-design.txt: 1 billion
 * users, 40 messages received and 10 sent per user per day ≈ 463,000 received and 116,000 sent
 * per second), from the per-message CPU cost that `--stack distributed` measured: Sluice's own
 * process (SMTP ingress and every stage) and each engine process of the stack.
 *
 * Per-core figure = 1000 / (CPU ms per message). Every count is
 * ceil(load × CPU ms per message × copies / 1000 / (cores per machine × utilisation)),
 * with the copies an engine keeps (replication), and the assumptions printed beside it.
 */

export interface MeasuredCost {
  /** Sluice process CPU ms per message, end to end (ingress + stages; one process ran both). */
  readonly sluiceMs: number;
  /** Engine process CPU ms per message, one node each, replication 1 (ops/stack's 1-broker stack). */
  readonly engineMs: Readonly<Record<string, number>>;
  /** Where the figures come from (the run: size, concurrency, messages). */
  readonly source: string;
}

export interface Assumptions {
  readonly receivedPerS: number;
  readonly sentPerS: number;
  /** A sent message costs this many received ones: the Sent copy through the receiving flow, plus prepare/scan/deliver ≈ one more pass. */
  readonly sentWeight: number;
  /** Cores one Sluice stage process keeps busy (one event loop + its pipeline worker thread). */
  readonly coresPerProcess: number;
  /** Cores of one engine machine (broker, Cassandra node, OpenSearch node). */
  readonly coresPerNode: number;
  /** Target busy fraction of every core (headroom for peaks and for a failed node's share). */
  readonly utilisation: number;
  /** Kafka replication factor and Cassandra replicas per data center (each keeps a full copy). */
  readonly replication: number;
  /** OpenSearch copies of each shard (primary + replicas). */
  readonly searchCopies: number;
  /** Topics that every message passes (mail.received, parsed, scanned, split, mailbox.commands, mailbox.events): partition count applies to each. */
  readonly topicsPerMessage: number;
  /** Partition replicas one broker carries comfortably. */
  readonly replicasPerBroker: number;
}

export const SEED: Assumptions = {
  receivedPerS: Math.round((1e9 * 40) / 86_400),
  sentPerS: Math.round((1e9 * 10) / 86_400),
  sentWeight: 2,
  coresPerProcess: 2,
  coresPerNode: 16,
  utilisation: 0.5,
  replication: 3,
  searchCopies: 2,
  topicsPerMessage: 6,
  replicasPerBroker: 4_000,
};

export interface CapacityLine {
  readonly what: string;
  readonly count: number;
  readonly formula: string;
}

const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

/** Stage processes, partitions per topic, brokers, Cassandra nodes (and OpenSearch nodes when measured). */
export function capacity(cost: MeasuredCost, a: Assumptions = SEED): CapacityLine[] {
  const load = a.receivedPerS + a.sentWeight * a.sentPerS;
  const lines: CapacityLine[] = [];
  const nodeCores = a.coresPerNode * a.utilisation;
  const processes = Math.ceil((load * cost.sluiceMs) / 1000 / (a.coresPerProcess * a.utilisation));
  lines.push({
    what: 'message load L (received + sentWeight × sent)',
    count: load,
    formula: `${fmt(a.receivedPerS)} + ${a.sentWeight} × ${fmt(a.sentPerS)} = ${fmt(load)} msgs/s`,
  });
  lines.push({
    what: 'Sluice stage processes (ingress + stages)',
    count: processes,
    formula: `ceil(L × ${fmt(cost.sluiceMs, 3)} ms / 1000 / (${a.coresPerProcess} cores × ${a.utilisation})) — ${fmt(1000 / cost.sluiceMs)} msgs/s per core`,
  });
  const partitions = nextPowerOfTwo(2 * processes);
  lines.push({
    what: 'partitions per topic',
    count: partitions,
    formula: `next power of two ≥ 2 × processes = 2 × ${fmt(processes)} (every process of the group gets partitions, and the group can double without re-keying users)`,
  });
  const kafkaMs = cost.engineMs.kafka;
  if (kafkaMs !== undefined) {
    const byCpu = Math.ceil((load * kafkaMs * a.replication) / 1000 / nodeCores);
    const byReplicas = Math.ceil((partitions * a.topicsPerMessage * a.replication) / a.replicasPerBroker);
    lines.push({
      what: 'Kafka brokers',
      count: Math.max(byCpu, byReplicas, a.replication),
      formula:
        `max(ceil(L × ${fmt(kafkaMs, 3)} ms × RF ${a.replication} / 1000 / (${a.coresPerNode} × ${a.utilisation})) = ${fmt(byCpu)}, ` +
        `ceil(${fmt(partitions)} partitions × ${a.topicsPerMessage} topics × RF ${a.replication} / ${fmt(a.replicasPerBroker)} replicas per broker) = ${fmt(byReplicas)}) — ${fmt(1000 / kafkaMs)} msgs/s per broker core`,
    });
  }
  const cassandraMs = cost.engineMs.cassandra;
  if (cassandraMs !== undefined) {
    const nodes = Math.ceil((load * cassandraMs * a.replication) / 1000 / nodeCores);
    lines.push({
      what: 'Cassandra nodes',
      count: Math.max(nodes, a.replication),
      formula: `ceil(L × ${fmt(cassandraMs, 3)} ms × RF ${a.replication} / 1000 / (${a.coresPerNode} × ${a.utilisation})) — ${fmt(1000 / cassandraMs)} msgs/s per node core`,
    });
  }
  const searchMs = cost.engineMs.opensearch;
  if (searchMs !== undefined) {
    const nodes = Math.ceil((load * searchMs * a.searchCopies) / 1000 / nodeCores);
    lines.push({
      what: 'OpenSearch nodes',
      count: Math.max(nodes, a.searchCopies),
      formula: `ceil(L × ${fmt(searchMs, 3)} ms × ${a.searchCopies} copies / 1000 / (${a.coresPerNode} × ${a.utilisation})) — ${fmt(1000 / searchMs)} msgs/s per node core`,
    });
  }
  return lines;
}

/** The report's section: the measured costs, the assumptions, one line per count with its formula. */
export function capacityReport(cost: MeasuredCost, a: Assumptions = SEED): string {
  const engines = Object.entries(cost.engineMs).map(([name, ms]) => `${name} ${fmt(ms, 3)}`).join(', ');
  return [
    `Measured CPU ms per message (${cost.source}): Sluice ${fmt(cost.sluiceMs, 3)}; engines ${engines || '–'} (one node each, replication 1).`,
    `Assumptions: ${a.coresPerNode}-core engine machines and ${a.coresPerProcess} cores per stage process at ${a.utilisation * 100}% busy; ` +
      `replication ${a.replication} (Kafka RF, Cassandra replicas), ${a.searchCopies} copies per OpenSearch shard; a sent message costs ${a.sentWeight} received ones.`,
    '',
    '| needed | count | formula |',
    '|---|---|---|',
    ...capacity(cost, a).map((l) => `| ${l.what} | ${fmt(l.count)} | ${l.formula} |`),
  ].join('\n');
}
