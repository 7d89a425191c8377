/**
 * The embedded blob store: one file per blob, content-addressed, at `dir/ab/cd/<sha256 hex>`
 * (two directory levels keep directories small).
 *
 * `put` is durable before it resolves: the bytes go to a temporary file in the blob's own
 * directory, which is fsynced, renamed into place (atomic: readers see all or nothing) and the
 * directory fsynced so the rename itself survives a power cut. A blob that already exists is
 * not written again (deduplication). Everything is `fs/promises`, so concurrent puts overlap
 * on libuv's thread pool instead of blocking the event loop.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BlobNotFoundError } from './blob.ts';
import type { BlobStore } from './blob.ts';
import { checkHealth, type EngineHealth } from '../health.ts';

export interface FsBlobStoreOptions {
  /** Root directory; created if missing. */
  readonly dir: string;
}

const BLOB_ID = /^[0-9a-f]{64}$/;

export class FsBlobStore implements BlobStore {
  private readonly dir: string;
  private closed = false;
  /** Leaf directories known to exist durably: no mkdir (and no parent fsyncs) for them again. */
  private readonly knownDirs = new Set<string>();

  constructor(options: FsBlobStoreOptions) {
    this.dir = path.resolve(options.dir);
  }

  async put(bytes: Buffer): Promise<string> {
    this.assertOpen();
    const id = createHash('sha256').update(bytes).digest('hex');
    const file = this.pathOf(id);
    if (await exists(file)) return id;
    const leaf = path.dirname(file);
    if (!this.knownDirs.has(leaf)) {
      const created = await fs.mkdir(leaf, { recursive: true });
      if (created !== undefined) {
        // New directories: their entries in the parents must be durable too.
        await syncDir(path.dirname(leaf));
        await syncDir(this.dir);
        if (created === this.dir) await syncDir(path.dirname(this.dir));
      }
      this.knownDirs.add(leaf);
    }
    const temp = path.join(leaf, `.tmp-${id.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
    try {
      // open, write, fsync, close in one call ('wx': never over another writer's temp file)
      await fs.writeFile(temp, bytes, { flag: 'wx', mode: 0o640, flush: true });
      // Concurrent puts of the same bytes each rename their own temp file over the same name:
      // atomic, and the content is identical, so whichever wins is right.
      await fs.rename(temp, file);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
    await syncDir(leaf);
    return id;
  }

  async get(id: string): Promise<Buffer> {
    this.assertOpen();
    if (!BLOB_ID.test(id)) throw new BlobNotFoundError(id);
    try {
      return await fs.readFile(this.pathOf(id));
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(id);
      throw error;
    }
  }

  async has(id: string): Promise<boolean> {
    this.assertOpen();
    return BLOB_ID.test(id) && exists(this.pathOf(id));
  }

  async delete(id: string): Promise<void> {
    this.assertOpen();
    if (!BLOB_ID.test(id)) return;
    const file = this.pathOf(id);
    try {
      await fs.unlink(file);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    await syncDir(path.dirname(file));
  }

  /** The folder is there and this process may write to it (or, before the first put made it, to the folder above). */
  health(): Promise<EngineHealth> {
    const rwx = fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK;
    return checkHealth('files', async () => {
      this.assertOpen();
      try {
        await fs.access(this.dir, rwx);
        return undefined;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        await fs.access(path.dirname(this.dir), rwx);
        return 'folder made at the first put';
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private pathOf(id: string): string {
    return path.join(this.dir, id.slice(0, 2), id.slice(2, 4), id);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('blob store is closed');
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
