import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBlobStoreConformance } from './conformance.ts';
import { FsBlobStore } from './fs.ts';
import { SqliteBlobStore } from './sqlite.ts';
import { TieredBlobStore } from './tiered.ts';
import type { BlobStore } from './blob.ts';
import { ReadCachedBlobStore } from './read-cache.ts';

function harness(make: (dir: string) => BlobStore) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-blob-'));
    let blobs = make(dir);
    return {
      blobs,
      async reopen() {
        await blobs.close();
        blobs = make(dir);
        return blobs;
      },
      async cleanup() {
        await blobs.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

runBlobStoreConformance('files', harness((dir) => new FsBlobStore({ dir })));
runBlobStoreConformance('sqlite', harness((dir) => new SqliteBlobStore({ path: join(dir, 'blobs.db') })));
runBlobStoreConformance(
  'tiered (sqlite up to 4 KiB, files above)',
  harness((dir) => new TieredBlobStore({ small: new SqliteBlobStore({ path: join(dir, 'blobs.db') }), large: new FsBlobStore({ dir: join(dir, 'files') }), threshold: 4096 })),
);
runBlobStoreConformance(
  'read cache over sqlite (8 KiB, blobs up to 6 KiB)',
  harness((dir) => new ReadCachedBlobStore(new SqliteBlobStore({ path: join(dir, 'blobs.db') }), { maxBytes: 8192, maxBlobBytes: 6144 })),
);
