/**
 * Brake on password guessing (issue 3 item 4): failed logins are counted per address and per
 * client IP (loopback too, unless configured otherwise), and every later attempt from either is
 * answered only after a delay that doubles with each failure — none for the first few, then
 * 1 s, 2 s, 4 s … up to a cap. Counts fade after a quiet period; a success clears the address.
 */

export interface LoginLimiterOptions {
  /** Attempts answered without delay before the brake starts (default 2; at least the first). */
  readonly freeFailures?: number;
  /** The first delay; each further failure doubles it (default 1 s). */
  readonly baseDelayMs?: number;
  /** The largest delay (default 15 s). */
  readonly maxDelayMs?: number;
  /** A counter with no failure for this long starts again from zero (default 15 min). */
  readonly quietPeriodMs?: number;
  /** Count failures from 127.0.0.0/8 and ::1 per IP as well (default true). */
  readonly countLoopback?: boolean;
  /** Counters kept at most; the oldest are dropped beyond it (default 100,000). */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

interface Counter {
  failures: number;
  lastFailure: number;
}

export class LoginLimiter {
  private readonly byAddress = new Map<string, Counter>();
  private readonly byIp = new Map<string, Counter>();
  private readonly freeFailures: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly quietPeriodMs: number;
  private readonly countLoopback: boolean;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: LoginLimiterOptions = {}) {
    this.freeFailures = options.freeFailures ?? 2;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 15_000;
    this.quietPeriodMs = options.quietPeriodMs ?? 15 * 60_000;
    this.countLoopback = options.countLoopback ?? true;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** How long to wait before answering an attempt for this address from this IP. */
  delayFor(address: string, ip: string): number {
    const failures = Math.max(this.failures(this.byAddress, normalizeAddress(address)), this.ipTracked(ip) ? this.failures(this.byIp, ip) : 0);
    const free = Math.max(1, this.freeFailures);
    if (failures < free) return 0;
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(30, failures - free));
  }

  recordFailure(address: string, ip: string): void {
    this.bump(this.byAddress, normalizeAddress(address));
    if (this.ipTracked(ip)) this.bump(this.byIp, ip);
  }

  /** A correct password clears the address's count (the IP's stays: one IP may guess many addresses). */
  recordSuccess(address: string): void {
    this.byAddress.delete(normalizeAddress(address));
  }

  private ipTracked(ip: string): boolean {
    return this.countLoopback || !isLoopback(ip);
  }

  private failures(map: Map<string, Counter>, key: string): number {
    const counter = map.get(key);
    if (!counter) return 0;
    if (this.now() - counter.lastFailure >= this.quietPeriodMs) {
      map.delete(key);
      return 0;
    }
    return counter.failures;
  }

  private bump(map: Map<string, Counter>, key: string): void {
    const failures = this.failures(map, key) + 1;
    map.delete(key); // re-insert: Map order is then oldest failure first
    map.set(key, { failures, lastFailure: this.now() });
    while (map.size > this.maxEntries) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) break;
      map.delete(oldest);
    }
  }
}

function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}
