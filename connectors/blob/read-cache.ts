/**
 * A read cache in front of any BlobStore. Blobs are content-addressed and never rewritten, so a
 * cached copy is never stale: the sending flow reads one submitted message four times in the
 * pipeline thread (parse and split-attachments for the Sent copy, prepare and deliver for the
 * outgoing one), and on S3 each read is a GET. Blobs up to `maxBlobBytes` are kept, at most
 * `maxBytes` in all, the least recently used dropped first; `delete` drops the copy.
 * Callers must not modify a Buffer that `get` returns (it is the cached one).
 */
import type { BlobStore } from './blob.ts';
import type { EngineHealth } from '../health.ts';

export interface ReadCacheOptions {
  /** Bytes kept at most (default 32 MiB). */
  readonly maxBytes?: number;
  /** Larger blobs are not kept (default 1 MiB). */
  readonly maxBlobBytes?: number;
}

export class ReadCachedBlobStore implements BlobStore {
  private readonly cache = new Map<string, Buffer>();
  private bytes = 0;
  private readonly maxBytes: number;
  private readonly maxBlobBytes: number;

  constructor(
    private readonly inner: BlobStore,
    options: ReadCacheOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    this.maxBlobBytes = Math.min(options.maxBlobBytes ?? 1024 * 1024, this.maxBytes);
  }

  put(bytes: Buffer): Promise<string> {
    return this.inner.put(bytes);
  }

  /** A cached copy if there is one (its recency unchanged), else the store below's, not kept. */
  async peek(id: string): Promise<Buffer> {
    return this.cache.get(id) ?? this.inner.get(id);
  }

  async get(id: string): Promise<Buffer> {
    const hit = this.cache.get(id);
    if (hit) {
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit;
    }
    const bytes = await this.inner.get(id);
    if (bytes.length <= this.maxBlobBytes && !this.cache.has(id)) {
      this.cache.set(id, bytes);
      this.bytes += bytes.length;
      for (const [oldest, b] of this.cache) {
        if (this.bytes <= this.maxBytes) break;
        this.cache.delete(oldest);
        this.bytes -= b.length;
      }
    }
    return bytes;
  }

  async has(id: string): Promise<boolean> {
    return this.cache.has(id) || this.inner.has(id);
  }

  async delete(id: string): Promise<void> {
    const hit = this.cache.get(id);
    if (hit) {
      this.cache.delete(id);
      this.bytes -= hit.length;
    }
    await this.inner.delete(id);
  }

  health(): Promise<EngineHealth> {
    return this.inner.health();
  }

  close(): Promise<void> {
    this.cache.clear();
    this.bytes = 0;
    return this.inner.close();
  }
}

/**
 * `blobs` for reads that should not fill its read cache (if it has one): a copy already cached
 * is used, a miss is read from the store below and not kept; writes and deletes go through the
 * cache as usual. For the IMAP/POP3 servers: a client opening random messages of a large
 * mailbox misses any cache of a few MiB, and each miss kept evicted an older Buffer that had
 * lived long enough to reach V8's old generation — freed only by a full GC (UID FETCH
 * BODY.PEEK[] at ~3,000/s: ~15% of the thread in major GCs, 20–25% fewer fetches per second).
 * Closing it leaves `blobs` open (its owner closes that).
 */
export function withoutReadCaching(blobs: BlobStore): BlobStore {
  if (!(blobs instanceof ReadCachedBlobStore)) return blobs;
  return {
    put: (bytes) => blobs.put(bytes),
    get: (id) => blobs.peek(id),
    has: (id) => blobs.has(id),
    delete: (id) => blobs.delete(id),
    health: () => blobs.health(),
    close: async () => undefined,
  };
}

