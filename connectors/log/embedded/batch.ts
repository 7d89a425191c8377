/**
 * One group-commit batch: the produce and commit calls queued since the last flush, written
 * inside one SQLite transaction (the caller opens it with BEGIN IMMEDIATE).
 *
 * Each call is validated in full before any of it is written, so a bad call (unknown topic,
 * partition out of range) fails alone and leaves nothing behind, while the others in the batch
 * go through. A failure of SQLite itself throws out of `writeBatch` and rolls back the batch.
 */
import { partitionFor } from '../log.ts';
import type { CommitOffset, ProduceRecord, RecordPosition } from '../log.ts';
import type { Statements } from './schema.ts';

export interface TopicState {
  readonly partitions: number;
  readonly retentionMs: number | undefined;
  /** Next offset to write, per partition. */
  readonly ends: readonly number[];
}

export type BatchItem =
  | {
      readonly kind: 'produce';
      readonly records: readonly ProduceRecord[];
      readonly resolve: (positions: RecordPosition[]) => void;
      readonly reject: (error: Error) => void;
    }
  | {
      readonly kind: 'commit';
      readonly group: string;
      readonly outputs: readonly ProduceRecord[];
      readonly offsets: readonly CommitOffset[];
      readonly resolve: (positions: RecordPosition[]) => void;
      readonly reject: (error: Error) => void;
    };

export type Outcome = { readonly ok: true; readonly positions: RecordPosition[] } | { readonly ok: false; readonly error: Error };

export interface BatchResult {
  /** One per item, in order. */
  readonly outcomes: Outcome[];
  /** New end offsets of every topic the batch appended to. */
  readonly ends: ReadonlyMap<string, number[]>;
  readonly records: number;
}

interface Placed {
  readonly record: ProduceRecord;
  readonly partition: number;
  readonly value: Buffer;
}

export function writeBatch(st: Statements, topics: ReadonlyMap<string, TopicState>, items: readonly BatchItem[]): BatchResult {
  const ends = new Map<string, number[]>();
  const now = Date.now();
  const endsOf = (topic: string, state: TopicState): number[] => {
    let current = ends.get(topic);
    if (!current) {
      current = [...state.ends];
      ends.set(topic, current);
    }
    return current;
  };
  const outcomes: Outcome[] = [];
  let records = 0;
  for (const item of items) {
    let placed: Placed[];
    try {
      placed = item.kind === 'produce' ? place(item.records, topics) : place(item.outputs, topics);
      if (item.kind === 'commit') checkOffsets(item.offsets, placed, topics, ends);
    } catch (error) {
      outcomes.push({ ok: false, error: error as Error });
      continue;
    }
    const positions: RecordPosition[] = [];
    for (const { record, partition, value } of placed) {
      const partitionEnds = endsOf(record.topic, topics.get(record.topic) as TopicState);
      const offset = partitionEnds[partition];
      partitionEnds[partition] = offset + 1;
      st.insertRecord.run(record.topic, partition, offset, record.key, value, encodeHeaders(record.headers), timestampOf(record, now));
      positions.push({ topic: record.topic, partition, offset });
    }
    records += placed.length;
    if (item.kind === 'commit') {
      for (const o of item.offsets) st.commitOffset.run(item.group, o.topic, o.partition, o.offset);
    }
    outcomes.push({ ok: true, positions });
  }
  for (const [topic, newEnds] of ends) {
    const old = (topics.get(topic) as TopicState).ends;
    newEnds.forEach((end, partition) => {
      if (end !== old[partition]) st.setEnd.run(end, topic, partition);
    });
  }
  return { outcomes, ends, records };
}

/** Validates every record and picks its partition; throws on the first bad one. */
function place(records: readonly ProduceRecord[], topics: ReadonlyMap<string, TopicState>): Placed[] {
  return records.map((record) => {
    const state = topicOrThrow(topics, record.topic);
    if (typeof record.key !== 'string') throw new Error(`record key for topic "${record.topic}" must be a string`);
    if (!(record.value instanceof Uint8Array)) throw new Error(`record value for topic "${record.topic}" must be a Buffer`);
    if (record.timestamp !== undefined && !Number.isFinite(record.timestamp)) {
      throw new Error(`record timestamp for topic "${record.topic}" must be a finite number`);
    }
    const partition = record.partition ?? partitionFor(record.key, state.partitions);
    checkPartition(record.topic, partition, state);
    const bytes: Uint8Array = record.value;
    const value = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { record, partition, value };
  });
}

/** Offsets to commit: known topic and partition, and not past what will have been written. */
function checkOffsets(
  offsets: readonly CommitOffset[],
  outputs: readonly Placed[],
  topics: ReadonlyMap<string, TopicState>,
  ends: ReadonlyMap<string, number[]>,
): void {
  for (const o of offsets) {
    const state = topicOrThrow(topics, o.topic);
    checkPartition(o.topic, o.partition, state);
    const end =
      (ends.get(o.topic) ?? state.ends)[o.partition] +
      outputs.filter((p) => p.record.topic === o.topic && p.partition === o.partition).length;
    if (!Number.isSafeInteger(o.offset) || o.offset < 0 || o.offset > end) {
      throw new Error(`cannot commit offset ${o.offset} for ${o.topic}[${o.partition}]: its end offset is ${end}`);
    }
  }
}

function topicOrThrow(topics: ReadonlyMap<string, TopicState>, topic: string): TopicState {
  const state = topics.get(topic);
  if (!state) throw unknownTopic(topic);
  return state;
}

export function unknownTopic(topic: string): Error {
  return new Error(`unknown topic "${topic}" (create it with ensureTopics)`);
}

function checkPartition(topic: string, partition: number, state: TopicState): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= state.partitions) {
    throw new Error(`partition ${partition} out of range for topic "${topic}" (${state.partitions} partitions)`);
  }
}

function encodeHeaders(headers: Readonly<Record<string, string>> | undefined): string | null {
  if (!headers) return null;
  for (const _ in headers) return JSON.stringify(headers);
  return null;
}

function timestampOf(record: ProduceRecord, now: number): number {
  return record.timestamp === undefined ? now : Math.trunc(record.timestamp);
}
