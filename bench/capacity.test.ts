import { describe, expect, it } from 'vitest';
import { capacity, capacityReport, SEED } from './capacity.ts';

describe('capacity arithmetic', () => {
  it('the seed load: 463k received and 116k sent messages per second', () => {
    expect(SEED.receivedPerS).toBe(462_963);
    expect(SEED.sentPerS).toBe(115_741);
  });

  it('counts follow the formulas from the per-message costs', () => {
    const a = { ...SEED, receivedPerS: 1000, sentPerS: 500, sentWeight: 2, coresPerProcess: 1, coresPerNode: 4, utilisation: 0.5 };
    const lines = capacity({ sluiceMs: 2, engineMs: { kafka: 0.5, cassandra: 1 }, source: 'test' }, a);
    const count = (what: string) => lines.find((l) => l.what.startsWith(what))?.count;
    expect(count('message load')).toBe(2000);
    expect(count('Sluice stage processes')).toBe(8); // 2000 × 2 ms = 4 cores / 0.5
    expect(count('partitions per topic')).toBe(16); // ≥ 2 × 8
    // CPU: 2000 × 0.5 ms × 3 = 3 cores / 2 = 2 → at least RF brokers; replicas: 16 × 6 × 3 / 4000 → 1
    expect(count('Kafka brokers')).toBe(3);
    expect(count('Cassandra nodes')).toBe(3); // 2000 × 1 ms × 3 = 6 cores / 2
    expect(count('OpenSearch')).toBeUndefined();
  });

  it('the report shows every formula', () => {
    const text = capacityReport({ sluiceMs: 1.5, engineMs: { kafka: 0.2 }, source: 'x' });
    expect(text).toMatch(/\| Kafka brokers \| [\d,]+ \| max\(ceil\(L × 0\.200 ms × RF 3/);
  });
});
