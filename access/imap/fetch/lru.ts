/**
 * A small cache that evicts about the least recently used entry: second chance ("CLOCK"). A
 * hit only marks its entry used — a plain Map lookup, so a FETCH 1:* over a mailbox that fits
 * hits every entry at no more cost — and an insertion over capacity looks at the oldest entries
 * (Map keeps insertion order): a used one is cleared and moved to the back, the first unused
 * one is dropped. (Re-inserting on each hit, as a strict LRU does, cost a Map delete and set
 * per message of a FETCH 1:* of 10,000 envelopes: a sixth of its server time.)
 */
export class Lru<K, V> {
  private readonly map = new Map<K, { value: V; used: boolean }>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    entry.used = true;
    return entry.value;
  }

  set(key: K, value: V): void {
    if (!this.map.delete(key) && this.map.size >= this.capacity) this.evictOne();
    this.map.set(key, { value, used: false });
  }

  /** Drops the oldest unused entry; used ones met on the way are cleared and moved to the back. */
  private evictOne(): void {
    for (;;) {
      const [oldest, entry] = this.map.entries().next().value as [K, { value: V; used: boolean }];
      this.map.delete(oldest);
      if (!entry.used) return;
      entry.used = false;
      this.map.set(oldest, entry); // second chance
    }
  }

  get size(): number {
    return this.map.size;
  }
}
