/**
 * Dead-letter topics: list what a stage could not process, and replay it — the record's value
 * goes back, unchanged and with its key, to the topic it came from, so the stage runs it again.
 * Replay progress is a consumer group per dead-letter topic (`dlq-replay.<topic>`), committed
 * atomically with the replayed records, so a record is replayed once.
 */
import type { Log, ProduceRecord } from '../connectors/log/log.ts';
import type { Topology } from '../topology/model.ts';
import { schemaType } from '../schemas/registry.ts';
import type { DeadLetter } from '../schemas/types.ts';

export interface DeadLetterEntry {
  readonly dlqTopic: string;
  readonly partition: number;
  readonly offset: number;
  readonly replayed: boolean;
  readonly letter: DeadLetter;
}

export function deadLetterTopics(topologies: readonly Topology[]): string[] {
  return topologies.flatMap((t) => [...t.topics.values()].filter((topic) => topic.schema === 'DeadLetter').map((topic) => topic.name));
}

export function replayGroup(dlqTopic: string): string {
  return `dlq-replay.${dlqTopic}`;
}

export async function listDeadLetters(log: Log, dlqTopics: readonly string[]): Promise<DeadLetterEntry[]> {
  const type = schemaType('DeadLetter');
  const entries: DeadLetterEntry[] = [];
  for (const topic of dlqTopics) {
    const ends = await log.endOffsets(topic);
    const replayedUpTo = await log.committed(replayGroup(topic), topic);
    for (let partition = 0; partition < ends.length; partition++) {
      for (let offset = 0; offset < ends[partition]; ) {
        const records = await log.read(topic, partition, offset, 500);
        if (records.length === 0) break;
        for (const r of records) {
          entries.push({ dlqTopic: topic, partition, offset: r.offset, replayed: r.offset < (replayedUpTo[partition] ?? 0), letter: type.fromBuffer(r.value) as DeadLetter });
        }
        offset = records[records.length - 1].offset + 1;
      }
    }
  }
  return entries;
}

/** Replays every not-yet-replayed record of `dlqTopic`; returns how many. */
export async function replayDeadLetters(log: Log, dlqTopic: string): Promise<number> {
  const type = schemaType('DeadLetter');
  const consumer = await log.consumer(replayGroup(dlqTopic), [dlqTopic]);
  let replayed = 0;
  try {
    for (;;) {
      const records = await consumer.poll(500, 0);
      if (records.length === 0) return replayed;
      const outputs: ProduceRecord[] = records.map((r) => {
        const letter = type.fromBuffer(r.value) as DeadLetter;
        return {
          topic: letter.topic,
          key: letter.key,
          value: letter.value,
          headers: { ...letter.headers, 'replayed-from': `${dlqTopic}/${r.partition}/${r.offset}` },
        };
      });
      const last = new Map<number, number>();
      for (const r of records) last.set(r.partition, Math.max(last.get(r.partition) ?? 0, r.offset + 1));
      await consumer.commit(outputs, [...last].map(([partition, offset]) => ({ topic: dlqTopic, partition, offset })));
      replayed += records.length;
    }
  } finally {
    await consumer.close();
  }
}
