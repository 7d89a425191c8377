import { describe, it, expect } from 'vitest';
import { imapTable, toRecord, verdicts, type ImapLoadRecord } from './imap-report.ts';

function load(op: string, opsPerS: number, p99: number, errors = 0): ImapLoadRecord {
  return {
    ops: { [op]: { count: Math.round(opsPerS * 10), ops_per_s: opsPerS, p50_ms: p99 / 2, p99_ms: p99, errors } },
    cpu: { server_cores: 0.9, client_cores: 0.2, machine_busy_cores: 1.5 },
    errors_sample: errors ? ['search: error: BAD'] : [],
  };
}

describe('imap report', () => {
  it('takes the operation of an imap_load.py record', () => {
    const r = toRecord('sluice', 'search', 8, 2, load('search', 300, 9.5, 1));
    expect(r).toMatchObject({ server: 'sluice', op: 'search', clients: 8, rep: 2, opsPerS: 300, p99Ms: 9.5, errors: 1, serverCores: 0.9, note: 'search: error: BAD' });
  });

  it('tables medians side by side and judges the targets', () => {
    const records = [
      toRecord('sluice', 'search', 1, 1, load('search', 200, 8)),
      toRecord('sluice', 'search', 1, 2, load('search', 400, 12)),
      toRecord('sluice', 'search', 1, 3, load('search', 300, 9)),
      toRecord('dovecot', 'search', 1, 1, load('search', 2, 1000)),
      toRecord('sluice', 'store', 1, 1, load('store', 100, 5)),
      toRecord('dovecot', 'store', 1, 1, load('store', 1000, 3)),
    ];
    const table = imapTable(records, ['search', 'store'], [1, 8]);
    expect(table).toContain('| SEARCH TEXT | 1 | 3 + 1 | 300 | 4.50 / 9.00 | 0.90 | 2 | 500 / 1000 | 0.90 | 150.00 | yes |');
    expect(table).toContain('| 0.10 | **no** |');
    expect(table).not.toContain('| 8 |');
    const v = verdicts(records, ['search', 'store'], [1, 8]);
    expect(v[0]).toMatch(/\*\*no\*\* — behind on UID STORE .* at 1 \(0\.10×\)/);
    expect(v[1]).toBe('Sluice SEARCH TEXT p99 < 10 ms at 1 client: yes (9.00 ms)');
    expect(v).toHaveLength(2);
  });
});
