import { describe, expect, it } from 'vitest';
import { chunks } from './cql.ts';
import type { Statement } from './cql.ts';

const st = (size: number): Statement => ({ query: 'INSERT …', params: ['x'.repeat(size)] });

describe('Cassandra batches', () => {
  it('keeps a small write as one batch, in order', () => {
    const statements = [st(10), st(20), st(30)];
    expect(chunks(statements)).toEqual([statements]);
    expect(chunks([])).toEqual([]);
  });

  it('cuts by statement count (200) and by bytes (256 KiB), never reordering, never leaving one empty', () => {
    const many = Array.from({ length: 450 }, () => st(1));
    expect(chunks(many).map((c) => c.length)).toEqual([200, 200, 50]);
    const big = Array.from({ length: 5 }, () => st(100 * 1024));
    const cut = chunks(big);
    expect(cut.map((c) => c.length)).toEqual([2, 2, 1]);
    expect(cut.flat()).toEqual(big);
    // A statement larger than the limit still goes alone (the node's own limit is higher).
    expect(chunks([st(300 * 1024)]).map((c) => c.length)).toEqual([1]);
  });
});
