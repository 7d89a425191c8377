/**
 * The composition root of the embedded default: opens the connectors under the data folder
 * (log.db, mail.db, search.db, blobs.db and blobs/) and loads the topologies. Core modules take these as
 * arguments; only this file picks the implementations.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Log } from '../connectors/log/log.ts';
import type { BlobStore } from '../connectors/blob/blob.ts';
import type { MailStore } from '../connectors/store/store.ts';
import type { SearchIndex } from '../connectors/search/search.ts';
import { InProcessPushBus, type PushBus } from '../connectors/push/push.ts';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { FsBlobStore } from '../connectors/blob/fs.ts';
import { SqliteBlobStore } from '../connectors/blob/sqlite.ts';
import { TieredBlobStore } from '../connectors/blob/tiered.ts';
import { SqliteMailStore } from '../connectors/store/sqlite.ts';
import { SqliteSearchIndex } from '../connectors/search/sqlite.ts';
import { loadTopologies } from '../topology/loader.ts';
import type { Topology } from '../topology/model.ts';
import { PROCESSORS } from '../processors/index.ts';
import type { Resources } from '../processors/processor.ts';
import { openScanResources } from './scan.ts';
import { openOutboundResources } from './outbound.ts';
import { LogQueueControl } from '../connectors/queue-control.ts';

export interface Connectors {
  readonly log: Log;
  readonly blobs: BlobStore;
  readonly store: MailStore;
  readonly search: SearchIndex;
  readonly push: PushBus;
}

export interface App extends Connectors {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  readonly topologies: readonly Topology[];
  resources(): Resources;
  close(): Promise<void>;
}

/** Blobs up to this size live in `blobs.db` (group commit); larger ones are files under `blobs/`. */
export const SMALL_BLOB_MAX = 1024 * 1024;

export function openBlobStore(dataDir: string): BlobStore {
  return new TieredBlobStore({
    small: new SqliteBlobStore({ path: join(dataDir, 'blobs.db') }),
    large: new FsBlobStore({ dir: join(dataDir, 'blobs') }),
    threshold: SMALL_BLOB_MAX,
  });
}

/** Only the directory (store) — for `domain add`, `user add`. */
export function openStore(config: Readonly<Config>): MailStore {
  mkdirSync(config.dataDir, { recursive: true });
  return new SqliteMailStore({ path: join(config.dataDir, 'mail.db') });
}

export function openApp(config: Readonly<Config>, logger: Logger): App {
  const topologies = loadTopologies(config.topology.dir, PROCESSORS);
  mkdirSync(config.dataDir, { recursive: true });
  const log = new EmbeddedLog({ path: join(config.dataDir, 'log.db') });
  const blobs = openBlobStore(config.dataDir);
  const store = openStore(config);
  const search = new SqliteSearchIndex({ path: join(config.dataDir, 'search.db') });
  const push = new InProcessPushBus();
  const scan = openScanResources(config);
  const outbound = openOutboundResources(config);
  const queue = new LogQueueControl(log);
  return {
    config,
    logger,
    topologies,
    log,
    blobs,
    store,
    search,
    push,
    resources: () => ({ blobs, store, search, push, logger, now: Date.now, scan, outbound, queue }),
    async close() {
      await log.close();
      await outbound.close();
      await scan.close();
      await search.close();
      await store.close();
      await blobs.close();
    },
  };
}
