/**
 * The composition root: opens the engines the config picks (`engines.*`, `open-engines.ts`:
 * by default the embedded ones under the data folder — log.db, mail.db, search.db, blobs.db and
 * blobs/) and loads the topologies. Core modules take these as arguments; only this file and
 * `open-engines.ts` pick the implementations.
 */
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Log } from '../connectors/log/log.ts';
import type { BlobStore } from '../connectors/blob/blob.ts';
import type { MailStore } from '../connectors/store/store.ts';
import type { SearchIndex } from '../connectors/search/search.ts';
import { InProcessPushBus, type PushBus } from '../connectors/push/push.ts';
import { openBlobStore, openLog, openMailStore, openSearchIndex, type OpenLogOptions } from './open-engines.ts';
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

/** Only the directory (store) — for `domain add`, `user add`. */
export function openStore(config: Readonly<Config>): Promise<MailStore> {
  return openMailStore(config);
}

export interface OpenAppOptions extends OpenLogOptions {
  /** Threads answering IMAP substring matches on the embedded search index (`SqliteSearchIndexOptions.readers`); default 0. */
  readonly searchReaders?: number;
  /** The embedded search index's writes made by a thread of their own (`SqliteSearchIndexOptions.writerThread`); default false. */
  readonly searchWriterThread?: boolean;
}

/**
 * Opens every engine (in parallel); if one fails, closes those that opened and throws its error.
 * `options.logSyncOnPool`: the embedded log fsyncs appends off this thread (`EmbeddedLogOptions.syncOnPool`)
 * — for the pipeline thread, which makes every append of the server and runs its stages.
 */
export async function openApp(config: Readonly<Config>, logger: Logger, options: OpenAppOptions = {}): Promise<App> {
  const topologies = loadTopologies(config.topology.dir, PROCESSORS);
  mkdirSync(config.dataDir, { recursive: true });
  const opened = await Promise.allSettled([openLog(config, topologies, options), openBlobStore(config), openMailStore(config), openSearchIndex(config, { readers: options.searchReaders, writerThread: options.searchWriterThread })] as const);
  const failed = opened.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed.length > 0) {
    for (const o of opened) if (o.status === 'fulfilled') await o.value.close().catch(() => undefined);
    for (const f of failed.slice(1)) logger.error({ err: f.reason as unknown }, 'engine failed to open');
    throw failed[0].reason;
  }
  const [log, blobs, store, search] = opened.map((o) => (o as PromiseFulfilledResult<unknown>).value) as [Log, BlobStore, MailStore, SearchIndex];
  const push = new InProcessPushBus();
  const scan = openScanResources(config);
  const outbound = openOutboundResources(config);
  const queue = new LogQueueControl(log);
  logger.debug({ engines: Object.fromEntries(Object.entries(config.engines).map(([k, v]) => [k, v.kind])) }, 'engines open');
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

export { openBlobStore, openEmbeddedBlobStore } from './open-engines.ts';
