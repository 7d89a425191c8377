/**
 * A small cache of DNS answers for the sending flow (`NodeDnsResolver`): each entry lives as long
 * as its records' TTL allows (RFC 1035 §3.2.1, RFC 2181 §8), at most `maxTtlMs`; negative
 * answers (no such name, no such record) for `negativeTtlMs` (RFC 2308 §5 — the SOA minimum
 * that would bound it is not visible through node:dns, so a fixed, short time); temporary
 * failures are never kept. At most `maxEntries` names, the least recently stored dropped first.
 * Lookups of a name already under way are shared, so a burst of mail to one domain asks once.
 */
import type { DnsError } from './dns.ts';

export interface AnswerCacheOptions {
  /** Names kept at most (default 1000). */
  readonly maxEntries?: number;
  /** Longest time a positive answer is kept, whatever its TTL (default 5 min). */
  readonly maxTtlMs?: number;
  /** How long "no such name / no such record" is kept (default 60 s). */
  readonly negativeTtlMs?: number;
  readonly now?: () => number;
}

/** What a lookup gave: a value and how long it may be kept (ms; 0 = not at all), or an error. */
export type Answer<V> = { readonly value: V; readonly ttlMs: number } | { readonly error: DnsError };

type Entry<V> = { readonly value: V; readonly error?: undefined; readonly expires: number } | { readonly error: DnsError; readonly expires: number };

export class AnswerCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly pending = new Map<string, Promise<Answer<V>>>();
  private readonly maxEntries: number;
  readonly maxTtlMs: number;
  readonly negativeTtlMs: number;
  private readonly now: () => number;

  constructor(options: AnswerCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1000;
    this.maxTtlMs = options.maxTtlMs ?? 5 * 60_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached answer for `key`, else `lookup()`'s (kept per its TTL); a permanent error is thrown, cached or not. */
  async get(key: string, lookup: () => Promise<Answer<V>>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) {
      if (hit.error) throw hit.error;
      return hit.value;
    }
    if (hit) this.entries.delete(key);
    let running = this.pending.get(key);
    if (!running) {
      running = lookup().then((answer) => {
        this.store(key, answer);
        return answer;
      });
      this.pending.set(key, running);
      void running.finally(() => this.pending.delete(key)).catch(() => undefined);
    }
    const answer = await running;
    if ('error' in answer) throw answer.error;
    return answer.value;
  }

  private store(key: string, answer: Answer<V>): void {
    let entry: Entry<V> | undefined;
    if ('error' in answer) {
      if (!answer.error.temporary && this.negativeTtlMs > 0) entry = { error: answer.error, expires: this.now() + this.negativeTtlMs };
    } else {
      const ttl = Math.min(answer.ttlMs, this.maxTtlMs);
      if (ttl > 0) entry = { value: answer.value, expires: this.now() + ttl };
    }
    if (!entry) return;
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}
