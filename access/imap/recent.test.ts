import { describe, it, expect } from 'vitest';
import { RecentUids, shownFlags } from './recent.ts';

const box = (uidNext: number, uidValidity = 7) => ({ id: 1, uidValidity, uidNext });

describe('RecentUids (RFC 3501 §2.3.2)', () => {
  it('starts at UIDNEXT when first touched: earlier messages are never recent', () => {
    const r = new RecentUids();
    expect(r.firstRecent(box(10))).toBe(10);
    expect(r.peek(box(12), [8, 9, 10, 11])).toEqual([10, 11]);
  });

  it('peek counts without claiming; claim gives each UID to one session only', () => {
    const r = new RecentUids();
    r.firstRecent(box(1));
    expect(r.peek(box(3), [1, 2])).toEqual([1, 2]);
    expect(r.claim(box(3), [1, 2], 3)).toEqual([1, 2]);
    expect(r.claim(box(3), [1, 2], 3)).toEqual([]);
    expect(r.peek(box(3), [1, 2])).toEqual([]);
    // A later message: claimed by whichever session notices it first.
    expect(r.claim(box(4), [3])).toEqual([3]);
    expect(r.claim(box(4), [3])).toEqual([]);
    expect(r.firstRecent(box(4))).toBe(4);
  });

  it('moves past UIDNEXT even when the claimed messages were expunged', () => {
    const r = new RecentUids();
    r.firstRecent(box(1));
    expect(r.claim(box(6), [2], 6)).toEqual([2]);
    expect(r.firstRecent(box(6))).toBe(6);
  });

  it('starts over for a mailbox re-created under the same id (new UIDVALIDITY)', () => {
    const r = new RecentUids();
    r.claim(box(1, 7), [1, 2, 3], 4);
    expect(r.firstRecent(box(1, 8))).toBe(1);
    expect(r.peek(box(2, 8), [1])).toEqual([1]);
  });
});

describe('shownFlags', () => {
  it('puts \\Recent first for a recent message and never shows a stored one', () => {
    expect(shownFlags(['\\Seen'], true)).toEqual(['\\Recent', '\\Seen']);
    expect(shownFlags(['\\Recent', '$x'], false)).toEqual(['$x']);
  });
});
