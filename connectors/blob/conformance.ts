/** The contract every BlobStore passes (file, SQLite, tiered; S3 later). */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { BlobNotFoundError, type BlobStore } from './blob.ts';

export interface BlobStoreUnderTest {
  readonly blobs: BlobStore;
  /** Closes `blobs` and opens the same storage again. */
  reopen(): Promise<BlobStore>;
  cleanup(): Promise<void>;
}

export function runBlobStoreConformance(name: string, open: () => Promise<BlobStoreUnderTest>, sizes: readonly number[] = [0, 1, 5000, 300_000]): void {
  describe(`BlobStore contract: ${name}`, () => {
    let t: BlobStoreUnderTest;
    beforeEach(async () => {
      t = await open();
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('health() answers ok with its kind and latency, and not ok once closed', async () => {
      const up = await t.blobs.health();
      expect(up).toMatchObject({ ok: true });
      expect(up.kind).toMatch(/^[a-z0-9]+$/);
      expect(up.latencyMs).toBeGreaterThanOrEqual(0);
      await t.blobs.close();
      const down = await t.blobs.health();
      expect(down).toMatchObject({ ok: false, kind: up.kind });
      expect(down.error).toBeTruthy();
    });

    it('stores bytes under their SHA-256 and gives them back, at every size', async () => {
      for (const size of sizes) {
        const bytes = randomBytes(size);
        const id = await t.blobs.put(bytes);
        expect(id).toBe(createHash('sha256').update(bytes).digest('hex'));
        expect((await t.blobs.get(id)).equals(bytes)).toBe(true);
        expect(await t.blobs.has(id)).toBe(true);
      }
    });

    it('is idempotent: the same bytes twice, and concurrently, give one blob', async () => {
      const bytes = randomBytes(4096);
      const ids = await Promise.all([t.blobs.put(bytes), t.blobs.put(bytes), t.blobs.put(Buffer.from(bytes))]);
      expect(new Set(ids).size).toBe(1);
      expect((await t.blobs.get(ids[0])).equals(bytes)).toBe(true);
    });

    it('many concurrent puts all resolve with their own ids', async () => {
      const all = Array.from({ length: 200 }, (_, i) => Buffer.from(`blob number ${i}`));
      const ids = await Promise.all(all.map((b) => t.blobs.put(b)));
      expect(new Set(ids).size).toBe(200);
      for (let i = 0; i < all.length; i += 37) expect((await t.blobs.get(ids[i])).toString()).toBe(`blob number ${i}`);
    });

    it('throws BlobNotFoundError for a missing blob, and delete removes one', async () => {
      const missing = 'f'.repeat(64);
      await expect(t.blobs.get(missing)).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await t.blobs.has(missing)).toBe(false);
      const id = await t.blobs.put(Buffer.from('short-lived'));
      await t.blobs.delete(id);
      expect(await t.blobs.has(id)).toBe(false);
      await t.blobs.delete(id);
    });

    it('keeps what a put acknowledged across close and reopen', async () => {
      const ids = await Promise.all(sizes.map((s) => t.blobs.put(Buffer.alloc(s, s % 251))));
      const again = await t.reopen();
      for (const [i, id] of ids.entries()) expect((await again.get(id)).equals(Buffer.alloc(sizes[i], sizes[i] % 251))).toBe(true);
    });
  });
}
