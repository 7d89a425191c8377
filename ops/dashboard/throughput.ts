/**
 * Throughput of the stages this process runs, over sliding windows (the last 10 s, the last
 * minute), from the runner's counters (`RunnerMetrics`: records processed or dead-lettered, and
 * batch times). Kept as one bucket per second per stage, at most `HORIZON_S` seconds back.
 */

const HORIZON_S = 60;

interface Bucket {
  records: number;
  batches: number;
  batchSeconds: number;
}

export interface StageRate {
  /** Records per second (processed and dead-lettered) over the window. */
  readonly recordsPerSecond: number;
  /** Batches committed in the window. */
  readonly batches: number;
  /** Mean time to process and commit one batch in the window, ms; null without batches. */
  readonly batchMs: number | null;
}

export class StageThroughput {
  private readonly stages = new Map<string, Map<number, Bucket>>();

  constructor(private readonly now: () => number = Date.now) {}

  records(stage: string, records: number): void {
    this.bucket(stage).records += records;
  }

  batch(stage: string, seconds: number): void {
    const bucket = this.bucket(stage);
    bucket.batches += 1;
    bucket.batchSeconds += seconds;
  }

  /** Over the last `windowS` seconds (at most `HORIZON_S`), this one included. */
  rate(stage: string, windowS: number): StageRate {
    const window = Math.min(Math.max(1, Math.floor(windowS)), HORIZON_S);
    const second = Math.floor(this.now() / 1000);
    let records = 0;
    let batches = 0;
    let batchSeconds = 0;
    for (const [at, b] of this.stages.get(stage) ?? []) {
      if (at <= second - window) continue;
      records += b.records;
      batches += b.batches;
      batchSeconds += b.batchSeconds;
    }
    return { recordsPerSecond: records / window, batches, batchMs: batches > 0 ? (batchSeconds / batches) * 1000 : null };
  }

  private bucket(stage: string): Bucket {
    const second = Math.floor(this.now() / 1000);
    let buckets = this.stages.get(stage);
    if (!buckets) this.stages.set(stage, (buckets = new Map()));
    let bucket = buckets.get(second);
    if (!bucket) {
      for (const at of buckets.keys()) if (at <= second - HORIZON_S) buckets.delete(at);
      buckets.set(second, (bucket = { records: 0, batches: 0, batchSeconds: 0 }));
    }
    return bucket;
  }
}
