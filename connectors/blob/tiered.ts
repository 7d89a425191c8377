/**
 * The embedded blob store: blobs up to `threshold` bytes (most messages) in a SQLite file with
 * group commit, larger ones as files. Both are content-addressed with the same ids, so a blob
 * is found wherever it is.
 */
import { BlobNotFoundError, type BlobStore } from './blob.ts';
import { combineHealth, type EngineHealth } from '../health.ts';

export class TieredBlobStore implements BlobStore {
  constructor(private readonly tiers: { readonly small: BlobStore; readonly large: BlobStore; readonly threshold: number }) {}

  put(bytes: Buffer): Promise<string> {
    return bytes.length <= this.tiers.threshold ? this.tiers.small.put(bytes) : this.tiers.large.put(bytes);
  }

  async get(id: string): Promise<Buffer> {
    try {
      return await this.tiers.small.get(id);
    } catch (error) {
      if (!(error instanceof BlobNotFoundError)) throw error;
      return this.tiers.large.get(id);
    }
  }

  async has(id: string): Promise<boolean> {
    return (await this.tiers.small.has(id)) || this.tiers.large.has(id);
  }

  async delete(id: string): Promise<void> {
    await this.tiers.small.delete(id);
    await this.tiers.large.delete(id);
  }

  /** Both tiers must answer; the kind is the large tier's (`files` for the embedded store, as `engines.blobs.kind`). */
  async health(): Promise<EngineHealth> {
    const [small, large] = await Promise.all([this.tiers.small.health(), this.tiers.large.health()]);
    return combineHealth(large.kind, [small, large]);
  }

  async close(): Promise<void> {
    await this.tiers.small.close();
    await this.tiers.large.close();
  }
}
