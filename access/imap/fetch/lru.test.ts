import { describe, expect, it } from 'vitest';
import { Lru } from './lru.ts';

describe('Lru (second chance)', () => {
  it('keeps what was used since it was stored, dropping the oldest unused entry', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    lru.get('a');
    lru.set('d', 4); // a was used: kept; b is the oldest unused
    expect([lru.get('a'), lru.get('b'), lru.get('c'), lru.get('d'), lru.size]).toEqual([1, undefined, 3, 4, 3]);
  });

  it('when every entry was used, clears them in order and drops the oldest', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.get('a');
    lru.get('b');
    lru.set('c', 3);
    expect([lru.get('a'), lru.get('b'), lru.get('c'), lru.size]).toEqual([undefined, 2, 3, 2]);
  });

  it('replacing a value keeps one entry; a capacity of 1 holds the newest', () => {
    const lru = new Lru<string, number>(1);
    lru.set('a', 1);
    lru.set('a', 2);
    expect([lru.get('a'), lru.size]).toEqual([2, 1]);
    lru.get('a');
    lru.set('b', 3);
    expect([lru.get('a'), lru.get('b'), lru.size]).toEqual([undefined, 3, 1]);
  });
});
