import { describe, expect, it } from 'vitest';
import { StageThroughput } from './throughput.ts';

describe('StageThroughput', () => {
  it('gives records per second and mean batch time over the last 10 s and 1 min', () => {
    let now = 1_000_000;
    const t = new StageThroughput(() => now);
    t.records('parse', 30);
    t.batch('parse', 0.01);
    now += 30_000;
    t.records('parse', 100);
    t.batch('parse', 0.02);
    t.batch('parse', 0.04);
    expect(t.rate('parse', 10)).toEqual({ recordsPerSecond: 10, batches: 2, batchMs: 30 });
    const minute = t.rate('parse', 60);
    expect(minute.recordsPerSecond).toBeCloseTo(130 / 60);
    expect(minute.batches).toBe(3);
    expect(minute.batchMs).toBeCloseTo(70 / 3);
    expect(t.rate('store', 10)).toEqual({ recordsPerSecond: 0, batches: 0, batchMs: null });
  });

  it('forgets what is older than the window', () => {
    let now = 5_000;
    const t = new StageThroughput(() => now);
    t.records('index', 60);
    now += 10_000;
    expect(t.rate('index', 10).recordsPerSecond).toBe(0);
    expect(t.rate('index', 60).recordsPerSecond).toBe(1);
    now += 60_000;
    t.records('index', 6); // also drops the old bucket
    expect(t.rate('index', 60).recordsPerSecond).toBe(0.1);
  });
});
