/**
 * What the log says about every stage, read at once for /ops and /metrics: per input partition,
 * the group's committed offset, the end, the lag in records and in seconds (the age of the
 * oldest unread record), and how fast the committed offset moved over the last reads; per stage,
 * the records in its dead-letter topic. All of it comes from the log, so it is cluster-wide for
 * a consumer group, whichever processes run the stage.
 */
import type { Log } from '../../connectors/log/log.ts';
import type { Topology } from '../../topology/model.ts';
import { stageGroup } from '../../topology/runner.ts';
import { DeadLettersByStage } from './dead-letters.ts';

/** Committed offsets per second are measured over about this span of earlier reads. */
export const RATE_WINDOW_MS = 10_000;
/** … and only from a read at least this old. */
const MIN_RATE_SPAN_MS = 1_500;

export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly committed: number;
  readonly end: number;
  readonly lagRecords: number;
  readonly lagSeconds: number;
  /**
   * Offsets committed per second over about the last `RATE_WINDOW_MS`, between this read and
   * an earlier one (on Kafka, transaction markers take offsets too); null without such a read.
   */
  readonly committedPerSecond: number | null;
}

export interface DeadLetterState {
  readonly topic: string;
  /** This stage's records in the topic. */
  readonly records: number;
  /** All records in the topic (all partitions, every stage writing to it). */
  readonly topicRecords: number;
  /** Other stages writing to the same topic (e.g. retry-1 … retry-5 share retry.dlq). */
  readonly sharedWith: readonly string[];
}

export interface StageLogState {
  readonly topology: string;
  readonly stage: string;
  readonly group: string;
  readonly from: string;
  readonly partitions: readonly PartitionState[];
  readonly deadLetter: DeadLetterState | null;
  /** The log could not be read for this stage. */
  readonly error?: string;
}

export interface TopicState {
  readonly topic: string;
  /** Records ever appended (sum of the partitions' end offsets; on Kafka transaction markers too). */
  readonly end: number;
  /** For a dead-letter topic, its records (counted by reading them: markers are not records). */
  readonly deadLetters?: number;
}

export interface LogState {
  readonly at: number;
  readonly stages: readonly StageLogState[];
  readonly topics: readonly TopicState[];
}

export class LogStateReader {
  /** Earlier reads' committed offsets, oldest first, within `RATE_WINDOW_MS`. */
  private history: { at: number; committed: ReadonlyMap<string, number> }[] = [];
  private readonly deadLetters: DeadLettersByStage;

  constructor(
    private readonly log: Log,
    private readonly topologies: readonly Topology[],
    private readonly now: () => number = Date.now,
  ) {
    this.deadLetters = new DeadLettersByStage(log);
  }

  async read(): Promise<LogState> {
    const at = this.now();
    const ends = new Map<string, number>();
    const dead = new Map<string, ReadonlyMap<string, number>>();
    const topics: TopicState[] = [];
    for (const topology of this.topologies) {
      for (const topic of topology.topics.values()) {
        if (ends.has(topic.name)) continue;
        const end = await this.log.endOffsets(topic.name).then(
          (offsets) => offsets.reduce((a, b) => a + b, 0),
          () => null,
        );
        if (end === null) continue;
        ends.set(topic.name, end);
        if (topic.schema !== 'DeadLetter') {
          topics.push({ topic: topic.name, end });
          continue;
        }
        const counts = await this.deadLetters.count(topic.name).catch(() => null);
        if (counts) dead.set(topic.name, counts);
        topics.push({ topic: topic.name, end, ...(counts ? { deadLetters: [...counts.values()].reduce((a, b) => a + b, 0) } : {}) });
      }
    }
    const committed = new Map<string, number>();
    const stages: StageLogState[] = [];
    for (const topology of this.topologies) {
      for (const stage of topology.stages) {
        const group = stageGroup(topology, stage);
        const base = { topology: topology.name, stage: stage.name, group, from: stage.from, deadLetter: null };
        try {
          const deadLetter = stage.deadLetter ? this.deadLetterState(stage.name, stage.deadLetter, dead.get(stage.deadLetter)) : null;
          const lags = await this.log.lag(group, [stage.from]);
          const partitions = lags.map((p): PartitionState => {
            const key = `${group}\u0000${p.topic}\u0000${p.partition}`;
            committed.set(key, p.committed);
            return {
              topic: p.topic,
              partition: p.partition,
              committed: p.committed,
              end: p.end,
              lagRecords: p.records,
              lagSeconds: p.seconds,
              committedPerSecond: this.rate(key, p.committed, at),
            };
          });
          stages.push({ ...base, deadLetter, partitions });
        } catch (err) {
          stages.push({ ...base, partitions: [], error: err instanceof Error ? err.message : String(err) });
        }
      }
    }
    this.history = [...this.history.filter((h) => h.at > at - RATE_WINDOW_MS), { at, committed }];
    return { at, stages, topics };
  }

  private deadLetterState(stage: string, topic: string, counts: ReadonlyMap<string, number> | undefined): DeadLetterState | null {
    if (!counts) return null;
    const sharedWith = this.writersOf(topic).filter((s) => s !== stage);
    const topicRecords = [...counts.values()].reduce((a, b) => a + b, 0);
    // A topic of its own: every record is this stage's (one that did not decode too).
    return { topic, records: sharedWith.length === 0 ? topicRecords : (counts.get(stage) ?? 0), topicRecords, sharedWith };
  }

  private writersOf(topic: string): string[] {
    return this.topologies.flatMap((t) => t.stages.filter((s) => s.deadLetter === topic).map((s) => s.name));
  }

  private rate(key: string, committed: number, at: number): number | null {
    const earlier = this.history.find((h) => h.at > at - RATE_WINDOW_MS && at - h.at >= MIN_RATE_SPAN_MS && h.committed.has(key));
    if (!earlier) return null;
    const before = earlier.committed.get(key)!;
    return Math.max(0, committed - before) / ((at - earlier.at) / 1000);
  }
}
