/**
 * Content-addressed blob store: a blob's id is the lowercase hex SHA-256 of its bytes, so
 * writing the same bytes twice stores them once (deduplication) and a put is idempotent.
 * Raw messages (the claim check of `mail.received`) and large attachment parts live here.
 */
import type { EngineHealth } from '../health.ts';

export interface BlobStore {
  /** Stores `bytes` durably (fsynced / acknowledged by S3) and returns their SHA-256 hex id. */
  put(bytes: Buffer): Promise<string>;
  /** The bytes of blob `id`; throws `BlobNotFoundError` when absent. */
  get(id: string): Promise<Buffer>;
  has(id: string): Promise<boolean>;
  delete(id: string): Promise<void>;
  /** One cheap round trip to the engine (`connectors/health.ts`); never throws. */
  health(): Promise<EngineHealth>;
  close(): Promise<void>;
}

export class BlobNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`blob not found: ${id}`);
    this.name = 'BlobNotFoundError';
  }
}
