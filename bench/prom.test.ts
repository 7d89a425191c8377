import { describe, it, expect } from 'vitest';
import { bucketDelta, counterValue, histogramBuckets, histogramQuantile } from './prom.ts';

const SCRAPE = `# HELP sluice_stage_records_total Records processed by a stage, by outcome
# TYPE sluice_stage_records_total counter
sluice_stage_records_total{stage="parse",outcome="ok"} 12
sluice_stage_records_total{stage="index",outcome="ok"} 10
sluice_stage_records_total{stage="index",outcome="dead_letter"} 1
# TYPE sluice_since_received_seconds histogram
sluice_since_received_seconds_bucket{le="0.01",stage="index"} 2
sluice_since_received_seconds_bucket{le="0.05",stage="index"} 6
sluice_since_received_seconds_bucket{le="0.1",stage="index"} 9
sluice_since_received_seconds_bucket{le="+Inf",stage="index"} 10
sluice_since_received_seconds_sum{stage="index"} 0.4
sluice_since_received_seconds_count{stage="index"} 10
sluice_since_received_seconds_bucket{le="0.01",stage="store"} 10
sluice_since_received_seconds_bucket{le="+Inf",stage="store"} 10
`;

describe('metrics text', () => {
  it('reads one counter by labels', () => {
    expect(counterValue(SCRAPE, 'sluice_stage_records_total', { stage: 'index', outcome: 'ok' })).toBe(10);
    expect(counterValue(SCRAPE, 'sluice_stage_records_total', { stage: 'index' })).toBe(11);
    expect(counterValue(SCRAPE, 'sluice_stage_records_total', { stage: 'push' })).toBe(0);
  });

  it('reads one histogram, sorted by bound, +Inf last', () => {
    expect(histogramBuckets(SCRAPE, 'sluice_since_received_seconds', { stage: 'index' })).toEqual([
      { le: 0.01, count: 2 },
      { le: 0.05, count: 6 },
      { le: 0.1, count: 9 },
      { le: Infinity, count: 10 },
    ]);
  });
});

describe('histogramQuantile', () => {
  const buckets = histogramBuckets(SCRAPE, 'sluice_since_received_seconds', { stage: 'index' });

  it('interpolates linearly inside the bucket holding the rank', () => {
    // rank 5 of 10: bucket (0.01, 0.05] holds ranks 3..6 → 0.01 + 0.04 × 3/4
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.04, 10);
    // rank 1 of 10: first bucket, lower bound 0 → 0.01 × 1/2
    expect(histogramQuantile(0.1, buckets)).toBeCloseTo(0.005, 10);
  });

  it('answers the highest finite bound when the rank is in +Inf', () => {
    expect(histogramQuantile(0.99, buckets)).toBe(0.1);
  });

  it('is NaN without observations', () => {
    expect(histogramQuantile(0.5, [])).toBeNaN();
    expect(histogramQuantile(0.5, bucketDelta(buckets, buckets))).toBeNaN();
  });

  it('takes only the observations between two scrapes', () => {
    const later = buckets.map((b) => ({ le: b.le, count: b.count + (b.le >= 0.1 ? 4 : 0) }));
    const delta = bucketDelta(buckets, later);
    expect(delta.map((b) => b.count)).toEqual([0, 0, 4, 4]);
    // all 4 new observations in (0.05, 0.1]: median at rank 2 → 0.075
    expect(histogramQuantile(0.5, delta)).toBeCloseTo(0.075, 10);
  });
});
