/**
 * The ops snapshot behind `/ops.json` and the `/ops` page: per topology, per stage and input
 * partition, the lag (records, seconds), committed offsets per second and dead letters, all
 * read from the log (cluster-wide for the stage's consumer group); per stage, the throughput
 * and batch time of this process's runner; and the health of every engine and scanner.
 */
import type { Log } from '../../connectors/log/log.ts';
import type { Topology } from '../../topology/model.ts';
import { latest } from './latest.ts';
import { LogStateReader, RATE_WINDOW_MS, type LogState, type StageLogState } from './log-state.ts';
import { checkEngines, type EngineChecks, type EngineStatus } from './engines.ts';
import type { StageRate, StageThroughput } from './throughput.ts';

/** The log is read at most this often, however many ask (/metrics, /ops.json). */
const LOG_REFRESH_MS = 250;
/** Engines are asked at most this often. */
const HEALTH_REFRESH_MS = 1_000;
/**
 * A read of the log that takes longer (a broker gone: the client retries for a long while) is
 * not waited for: the page and /metrics get the last state read, with the reason.
 */
export const LOG_READ_LIMIT_MS = 5_000;

export interface StageSnapshot extends StageLogState {
  /** Sum over the partitions. */
  readonly lagRecords: number;
  /** The oldest unread record of any partition, seconds. */
  readonly lagSeconds: number;
  /** This process's runner only: zero where the stage runs in other processes. */
  readonly throughput: { readonly last10s: StageRate; readonly last1m: StageRate };
}

export interface OpsSnapshot {
  /** When the log was read (ISO 8601); the epoch when it never was. */
  readonly at: string;
  /** Why the log could not be read just now (the figures are then those of `at`); null when it was. */
  readonly logError: string | null;
  /** Whether this process runs the stages (its throughput figures are only its own). */
  readonly runsStages: boolean;
  readonly notes: { readonly lag: string; readonly throughput: string };
  readonly topologies: readonly { readonly name: string; readonly stages: readonly StageSnapshot[] }[];
  readonly engines: readonly EngineStatus[];
}

export interface OpsDashboardDeps {
  readonly log: Log;
  readonly topologies: readonly Topology[];
  readonly engines: EngineChecks;
  readonly throughput: StageThroughput;
  /** False in a process that runs no stages (its throughput is then all zero). */
  readonly runsStages?: boolean;
  /** Default `LOG_READ_LIMIT_MS`. */
  readonly logReadLimitMs?: number;
}

export class OpsDashboard {
  /** The engines' health, shared by /metrics and /ops.json. */
  readonly engineState: () => Promise<EngineStatus[]>;
  private readonly readLog: () => Promise<LogState>;
  private lastState: LogState = { at: 0, stages: [], topics: [] };

  constructor(private readonly deps: OpsDashboardDeps) {
    const reader = new LogStateReader(deps.log, deps.topologies);
    this.readLog = latest(() => reader.read(), LOG_REFRESH_MS);
    this.engineState = latest(() => checkEngines(deps.engines), HEALTH_REFRESH_MS);
  }

  /**
   * The log's state, shared by /metrics and /ops.json: a fresh read, or — when the read fails or
   * takes longer than `LOG_READ_LIMIT_MS` — the last one, with why.
   */
  async logState(): Promise<{ state: LogState; error: string | null }> {
    const limitMs = this.deps.logReadLimitMs ?? LOG_READ_LIMIT_MS;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the log did not answer within ${limitMs / 1000} s`)), limitMs);
    });
    try {
      this.lastState = await Promise.race([this.readLog(), limit]);
      return { state: this.lastState, error: null };
    } catch (err) {
      return { state: this.lastState, error: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(timer);
    }
  }

  async snapshot(): Promise<OpsSnapshot> {
    const [{ state, error }, engines] = await Promise.all([this.logState(), this.engineState()]);
    const { throughput } = this.deps;
    const topologies = this.deps.topologies.map((t) => ({
      name: t.name,
      stages: state.stages
        .filter((s) => s.topology === t.name)
        .map((s): StageSnapshot => ({
          ...s,
          lagRecords: s.partitions.reduce((sum, p) => sum + p.lagRecords, 0),
          lagSeconds: s.partitions.reduce((max, p) => Math.max(max, p.lagSeconds), 0),
          throughput: { last10s: throughput.rate(s.stage, 10), last1m: throughput.rate(s.stage, 60) },
        })),
    }));
    return {
      at: new Date(state.at).toISOString(),
      logError: error,
      runsStages: this.deps.runsStages ?? true,
      notes: {
        lag: `Lag and dead letters are read from the log: cluster-wide for each stage's consumer group. Committed/s per partition is measured between reads of the last ${RATE_WINDOW_MS / 1000} s.`,
        throughput: 'Records/s and batch times are those of the stages this process runs (its runner\'s counters), not of the whole cluster.',
      },
      topologies,
      engines,
    };
  }
}
