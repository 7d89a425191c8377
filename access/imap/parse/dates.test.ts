import { describe, expect, it } from 'vitest';
import { ImapParseError } from '../command.ts';
import { dateTime, searchDate } from './dates.ts';
import { Scanner } from './scanner.ts';

const scan = (text: string) => new Scanner(Buffer.from(text, 'latin1'));

describe('SEARCH date (RFC 9051 §9 date)', () => {
  it('reads plain and quoted dates, any month case, one or two day digits', () => {
    expect(searchDate(scan('1-Feb-1994'))).toBe('1994-02-01');
    expect(searchDate(scan('"29-feb-2024"'))).toBe('2024-02-29');
    expect(searchDate(scan('31-DEC-0099'))).toBe('0099-12-31');
  });
  it('refuses impossible or malformed dates', () => {
    for (const bad of ['29-Feb-2023', '0-Jan-2020', '32-Jan-2020', '1-Jnu-2020', '1-Jan-20', '"1-Jan-2020', ' 1-Jan-2020', '100-Jan-2020']) {
      expect(() => searchDate(scan(bad)), bad).toThrow(ImapParseError);
    }
  });
});

describe('date-time (RFC 9051 §9)', () => {
  it('converts local time and zone to ms since the epoch', () => {
    expect(dateTime(scan('"17-Jul-1996 02:44:25 -0700"'))).toBe(Date.UTC(1996, 6, 17, 9, 44, 25));
    expect(dateTime(scan('" 1-Jan-2000 00:30:00 +0100"'))).toBe(Date.UTC(1999, 11, 31, 23, 30, 0));
    expect(dateTime(scan('"1-Jan-2000 00:00:00 +0000"'))).toBe(Date.UTC(2000, 0, 1));
    const early = new Date(0);
    early.setUTCFullYear(50, 0, 1);
    expect(dateTime(scan('"01-Jan-0050 00:00:00 +0000"'))).toBe(early.getTime());
  });
  it('refuses malformed date-times', () => {
    for (const bad of ['17-Jul-1996 02:44:25 -0700', '"17-Jul-1996 2:44:25 -0700"', '"17-Jul-1996 02:44:25 0700"', '"17-Jul-1996 02:60:25 -0700"', '"17-Jul-1996 02:44:25 -0760"', '"  1-Jan-2000 00:00:00 +0000"']) {
      expect(() => dateTime(scan(bad)), bad).toThrow(ImapParseError);
    }
  });
});
