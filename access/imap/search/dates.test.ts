import { describe, expect, it } from 'vitest';
import { compareDay, searchDay, sentDay, utcDay } from './dates.ts';

const day = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) / 86_400_000;

describe('SEARCH dates (RFC 9051 §6.4.4)', () => {
  it('reads search dates and UTC days', () => {
    expect(searchDay('2025-01-06')).toBe(day(2025, 1, 6));
    expect(searchDay('6-Jan-2025')).toBeNull();
    expect(utcDay(Date.UTC(2025, 0, 6, 23, 59))).toBe(day(2025, 1, 6));
  });

  it('takes the sent day as written, disregarding time and zone', () => {
    expect(sentDay('Mon, 6 Jan 2025 23:30:00 -0500')).toBe(day(2025, 1, 6)); // 7 Jan in UTC
    expect(sentDay('tue, 07 jan 2025 00:30:00 +1100')).toBe(day(2025, 1, 7)); // 6 Jan in UTC
    expect(sentDay('7 Jan 2025 10:00 GMT')).toBe(day(2025, 1, 7));
    expect(sentDay('Fri, 3 Mar 99 10:00:00 +0000')).toBe(day(1999, 3, 3)); // RFC 5322 §4.3
    expect(sentDay('3 Mar 05 10:00:00 +0000')).toBe(day(2005, 3, 3));
    expect(sentDay('3 Mar 105 10:00:00 +0000')).toBe(day(2005, 3, 3));
    expect(sentDay('2025-02-03T10:00:00Z')).toBe(day(2025, 2, 3)); // not RFC 5322, but Date.parse reads it
    expect(sentDay('whenever')).toBeNull();
  });

  it('compares BEFORE, ON and SINCE', () => {
    expect([compareDay(5, 'before', 6), compareDay(6, 'before', 6)]).toEqual([true, false]);
    expect([compareDay(6, 'on', 6), compareDay(7, 'on', 6)]).toEqual([true, false]);
    expect([compareDay(6, 'since', 6), compareDay(5, 'since', 6)]).toEqual([true, false]);
  });
});
