/**
 * Dead letters per stage, counted by reading the dead-letter topics: each record names its stage
 * (`DeadLetter.stage`), which tells apart the stages sharing a topic (retry-1 … retry-5 share
 * retry.dlq), and only records are counted — on Kafka, end offsets also count the transaction
 * markers of the stages' commits. A topic is read once, then only what was appended since; a
 * record retention deletes after it was counted stays counted (until the process restarts).
 */
import type { Log } from '../../connectors/log/log.ts';
import { schemaType } from '../../schemas/registry.ts';
import type { DeadLetter } from '../../schemas/types.ts';

const READ_BATCH = 500;
/** Stage of a record that does not decode as a DeadLetter. */
export const UNKNOWN_STAGE = '?';

export class DeadLettersByStage {
  private readonly type = schemaType('DeadLetter');
  /** topic → the next offset to read, per partition. */
  private readonly next = new Map<string, number[]>();
  /** topic → stage → records seen. */
  private readonly counts = new Map<string, Map<string, number>>();

  constructor(private readonly log: Log) {}

  /** Records per stage in `topic` (those retention deleted included, once read). */
  async count(topic: string): Promise<ReadonlyMap<string, number>> {
    const ends = await this.log.endOffsets(topic);
    const next = this.next.get(topic) ?? [];
    const counts = this.counts.get(topic) ?? new Map<string, number>();
    for (let partition = 0; partition < ends.length; partition++) {
      let offset = next[partition] ?? 0;
      while (offset < ends[partition]) {
        const records = await this.log.read(topic, partition, offset, READ_BATCH);
        if (records.length === 0) break; // only transaction markers left (Kafka)
        for (const r of records) {
          const stage = this.stageOf(r.value);
          counts.set(stage, (counts.get(stage) ?? 0) + 1);
        }
        offset = records[records.length - 1].offset + 1;
      }
      next[partition] = offset;
    }
    this.next.set(topic, next);
    this.counts.set(topic, counts);
    return counts;
  }

  private stageOf(value: Buffer): string {
    try {
      return (this.type.fromBuffer(value) as DeadLetter).stage;
    } catch {
      return UNKNOWN_STAGE;
    }
  }
}
