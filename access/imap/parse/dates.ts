/**
 * Dates of the formal syntax (RFC 9051 §9): `date` of SEARCH (`1-Feb-1994`, optionally quoted)
 * and `date-time` of APPEND (`"17-Jul-1996 02:44:25 -0700"`).
 */
import type { Scanner } from './scanner.ts';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

function digits(s: Scanner, min: number, max: number, what: string): number {
  let n = 0;
  let count = 0;
  while (count < max) {
    const c = s.peek();
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
    s.pos++;
    count++;
  }
  if (count < min) s.fail(`Invalid ${what}`);
  return n;
}

function month(s: Scanner): number {
  const start = s.pos;
  s.pos = Math.min(s.pos + 3, s.buf.length);
  const index = MONTHS.indexOf(s.buf.toString('latin1', start, s.pos).toUpperCase());
  if (index < 0) s.fail('Invalid month in date');
  return index;
}

function daysIn(year: number, monthIndex: number): number {
  if (monthIndex === 1) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][monthIndex];
}

/** date-day "-" date-month "-" date-year; `day` has 1 or 2 digits, or SP DIGIT in date-time (`fixed`). */
function dayMonthYear(s: Scanner, fixed: boolean): { year: number; month: number; day: number } {
  if (fixed && s.accept(0x20) && !(s.peek() >= 0x30 && s.peek() <= 0x39 && s.buf[s.pos + 1] === 0x2d)) {
    s.fail('Invalid day in date-time'); // date-day-fixed = (SP DIGIT) / 2DIGIT
  }
  const day = digits(s, 1, 2, 'day in date');
  s.expect(0x2d, '"-" in date');
  const m = month(s);
  s.expect(0x2d, '"-" in date');
  const year = digits(s, 4, 4, 'year in date');
  if (day < 1 || day > daysIn(year, m)) s.fail('Invalid day in date');
  return { year, month: m, day };
}

/** SEARCH date = date-text / DQUOTE date-text DQUOTE → `YYYY-MM-DD`. */
export function searchDate(s: Scanner): string {
  const quoted = s.accept(0x22);
  const { year, month: m, day } = dayMonthYear(s, false);
  if (quoted) s.expect(0x22, 'closing quote of date');
  return `${String(year).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE → ms since epoch. */
export function dateTime(s: Scanner): number {
  s.expect(0x22, 'date-time');
  const { year, month: m, day } = dayMonthYear(s, true);
  s.sp();
  const hour = digits(s, 2, 2, 'hour');
  s.expect(0x3a, '":" in time');
  const minute = digits(s, 2, 2, 'minute');
  s.expect(0x3a, '":" in time');
  const second = digits(s, 2, 2, 'second');
  if (hour > 23 || minute > 59 || second > 60) s.fail('Invalid time');
  s.sp();
  const sign = s.accept(0x2b) ? 1 : s.accept(0x2d) ? -1 : s.fail('Invalid zone');
  const zone = digits(s, 4, 4, 'zone');
  const zh = Math.floor(zone / 100);
  const zm = zone % 100;
  if (zh > 23 || zm > 59) s.fail('Invalid zone');
  s.expect(0x22, 'closing quote of date-time');
  // The zone is the local time's offset from UTC: UTC = local - offset.
  const d = new Date(0);
  d.setUTCFullYear(year, m, day); // not Date.UTC, which maps years 0–99 to 1900–1999
  d.setUTCHours(hour, minute, Math.min(second, 59), 0);
  const local = d.getTime();
  return local - sign * (zh * 60 + zm) * 60_000;
}
