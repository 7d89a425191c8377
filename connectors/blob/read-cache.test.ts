/** The read cache: a second read does not reach the store below; bounded in bytes; delete drops the copy. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from './fs.ts';
import { ReadCachedBlobStore, withoutReadCaching } from './read-cache.ts';
import { BlobNotFoundError } from './blob.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A file store whose reads are counted. */
function counted(): { store: FsBlobStore; reads: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-read-cache-'));
  dirs.push(dir);
  const store = new FsBlobStore({ dir });
  let reads = 0;
  const get = store.get.bind(store);
  store.get = (id: string) => {
    reads++;
    return get(id);
  };
  return { store, reads: () => reads };
}

describe('ReadCachedBlobStore', () => {
  it('reads a blob from the store below once, then from memory', async () => {
    const { store, reads } = counted();
    const cached = new ReadCachedBlobStore(store);
    const bytes = randomBytes(5000);
    const id = await cached.put(bytes);
    for (let i = 0; i < 4; i++) expect((await cached.get(id)).equals(bytes)).toBe(true);
    expect(reads()).toBe(1);
  });

  it('keeps at most maxBytes, the least recently read dropped first; larger blobs are never kept', async () => {
    const { store, reads } = counted();
    const cached = new ReadCachedBlobStore(store, { maxBytes: 10_000, maxBlobBytes: 6000 });
    const [a, b, c, big] = await Promise.all([4000, 4000, 4000, 7000].map((n) => cached.put(randomBytes(n))));
    await cached.get(a);
    await cached.get(b);
    await cached.get(a); // a is now the most recent
    await cached.get(c); // 12,000 bytes > 10,000: b goes
    expect(reads()).toBe(3);
    await cached.get(a);
    await cached.get(c);
    expect(reads()).toBe(3);
    await cached.get(b);
    expect(reads()).toBe(4);
    await cached.get(big);
    await cached.get(big);
    expect(reads()).toBe(6);
  });

  it('delete drops the cached copy too', async () => {
    const { store } = counted();
    const cached = new ReadCachedBlobStore(store);
    const id = await cached.put(randomBytes(100));
    await cached.get(id);
    await cached.delete(id);
    await expect(cached.get(id)).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await cached.has(id)).toBe(false);
  });

  it('withoutReadCaching: uses a cached copy, but a miss is not kept; writes and deletes go through the cache', async () => {
    const { store, reads } = counted();
    const cached = new ReadCachedBlobStore(store);
    const reader = withoutReadCaching(cached);
    const [a, b] = [randomBytes(3000), randomBytes(4000)];
    const idA = await reader.put(a);
    const idB = await cached.put(b);
    expect((await cached.get(idA)).equals(a)).toBe(true); // now cached
    expect(reads()).toBe(1);
    expect((await reader.get(idA)).equals(a)).toBe(true);
    expect(reads()).toBe(1);
    for (let i = 0; i < 2; i++) expect((await reader.get(idB)).equals(b)).toBe(true);
    expect(reads()).toBe(3);
    expect((await cached.get(idB)).equals(b)).toBe(true); // the reader did not keep it
    expect(reads()).toBe(4);
    await reader.delete(idA);
    await expect(cached.get(idA)).rejects.toBeInstanceOf(BlobNotFoundError);
    await reader.close();
    expect((await cached.get(idB)).equals(b)).toBe(true); // still open
    expect(withoutReadCaching(store)).toBe(store);
  });
});
