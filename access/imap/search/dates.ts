/**
 * Dates for SEARCH (RFC 9051 §6.4.4): BEFORE/ON/SINCE compare the internal date's day in the
 * server's time zone (UTC here); SENTBEFORE/SENTON/SENTSINCE compare the day of the Date:
 * header "disregarding time and timezone", i.e. the day as the sender wrote it.
 */

const DAY_MS = 86_400_000;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Days since the epoch of a `YYYY-MM-DD` search date, or null when it is not one. */
export function searchDay(date: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  return Math.floor(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS);
}

/** Days since the epoch of an instant, in UTC. */
export function utcDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/**
 * The day of a Date: header value as written (RFC 5322 §3.3 `[day-of-week ","] day month year`,
 * with §4.3 two- and three-digit years); a value in another shape that `Date.parse` reads gives
 * its UTC day; otherwise null.
 */
export function sentDay(value: string): number | null {
  const m = /^\s*(?:[a-z]+\s*,\s*)?(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{2,4})\b/i.exec(value);
  if (m) {
    const month = MONTHS.indexOf(m[2].toLowerCase());
    let year = Number(m[3]);
    if (m[3].length === 2) year += year < 50 ? 2000 : 1900;
    else if (m[3].length === 3) year += 1900;
    const day = Number(m[1]);
    if (month >= 0 && day >= 1 && day <= 31) return Math.floor(Date.UTC(year, month, day) / DAY_MS);
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : utcDay(ms);
}

export function compareDay(day: number, op: 'before' | 'on' | 'since', target: number): boolean {
  if (op === 'before') return day < target;
  if (op === 'on') return day === target;
  return day >= target;
}
