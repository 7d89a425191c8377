/**
 * A small least-recently-used map (Map keeps insertion order; a hit re-inserts). A hit on an
 * entry among the most recent quarter is not re-inserted — it is nowhere near eviction — so a
 * FETCH 1:* that hits every entry costs a plain Map lookup per message, not a delete and a set.
 */
export class Lru<K, V> {
  private readonly map = new Map<K, { value: V; tick: number }>();
  private tick = 0;
  private readonly fresh: number;

  constructor(private readonly capacity: number) {
    this.fresh = Math.floor(capacity / 4);
  }

  get(key: K): V | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    if (this.tick - entry.tick >= this.fresh) {
      this.map.delete(key);
      entry.tick = ++this.tick;
      this.map.set(key, entry);
    }
    return entry.value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, { value, tick: ++this.tick });
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }

  get size(): number {
    return this.map.size;
  }
}
