/**
 * Opens the engine `engines.<concern>` of the config names (DESIGN.md §1.4): the embedded
 * default under the data folder, or a distributed engine at its address. A distributed
 * connector's module (and its client library) is imported only when chosen, so the embedded
 * default starts as light as before. An engine that does not answer fails the start with an
 * `EngineError` naming the engine and its address.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.ts';
import type { Log } from '../connectors/log/log.ts';
import type { BlobStore } from '../connectors/blob/blob.ts';
import type { MailStore } from '../connectors/store/store.ts';
import type { SearchIndex } from '../connectors/search/search.ts';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { FsBlobStore } from '../connectors/blob/fs.ts';
import { SqliteBlobStore } from '../connectors/blob/sqlite.ts';
import { TieredBlobStore } from '../connectors/blob/tiered.ts';
import { ReadCachedBlobStore } from '../connectors/blob/read-cache.ts';
import { SqliteMailStore } from '../connectors/store/sqlite.ts';
import { SqliteSearchIndex } from '../connectors/search/sqlite.ts';
import { QUEUE_CONTROL_SCHEMA, QUEUE_CONTROL_TOPIC } from '../connectors/queue-control.ts';
import { schemaType, type AvroType } from '../schemas/registry.ts';
import type { Topology } from '../topology/model.ts';

export type Engines = Config['engines'];

/** An engine that could not be opened: which concern, which engine, where, and why. */
export class EngineError extends Error {
  constructor(
    readonly concern: keyof Engines,
    readonly engine: string,
    readonly address: string,
    cause: unknown,
  ) {
    super(`${concern} engine ${engine} at ${address} cannot be used: ${describe(cause)}`, { cause });
    this.name = 'EngineError';
  }
}

function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  // The driver's NoHostAvailableError lists each host's error in `innerErrors` (its own message
  // embeds a stack trace): name the hosts and their errors instead.
  const inner = (cause as { innerErrors?: Record<string, unknown> }).innerErrors;
  const details = inner ? Object.entries(inner).map(([host, e]) => `${host}: ${e instanceof Error ? e.message : String(e)}`) : [];
  if (details.length > 0) return `no node answered (${details.join('; ')})`;
  return cause.message || cause.name;
}

async function opening<T>(concern: keyof Engines, engine: string, address: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    throw new EngineError(concern, engine, address, error);
  }
}

/** Blobs up to this size live in `blobs.db` (group commit); larger ones are files under `blobs/`. */
export const SMALL_BLOB_MAX = 1024 * 1024;

/** The embedded blob store of a data folder: `blobs.db` and `blobs/`. */
export function openEmbeddedBlobStore(dataDir: string): BlobStore {
  return new TieredBlobStore({
    small: new SqliteBlobStore({ path: join(dataDir, 'blobs.db') }),
    large: new FsBlobStore({ dir: join(dataDir, 'blobs') }),
    threshold: SMALL_BLOB_MAX,
  });
}

/**
 * The configured blob engine behind a read cache (`connectors/blob/read-cache.ts`): blobs never
 * change, and the stages read one message several times.
 */
export async function openBlobStore(config: Readonly<Config>): Promise<BlobStore> {
  return new ReadCachedBlobStore(await openBlobEngine(config));
}

async function openBlobEngine(config: Readonly<Config>): Promise<BlobStore> {
  const engine = config.engines.blobs;
  switch (engine.kind) {
    case 'files':
      mkdirSync(config.dataDir, { recursive: true });
      return openEmbeddedBlobStore(config.dataDir);
    case 's3': {
      const { S3BlobStore } = await import('../connectors/blob/s3.ts');
      return opening('blobs', 's3', `${engine.endpoint} bucket ${engine.bucket}`, () =>
        S3BlobStore.open({
          endpoint: engine.endpoint,
          region: engine.region,
          bucket: engine.bucket,
          accessKeyId: engine.accessKeyId,
          secretAccessKey: engine.secretAccessKey,
          prefix: engine.prefix,
          forcePathStyle: engine.forcePathStyle,
        }),
      );
    }
  }
}

export async function openMailStore(config: Readonly<Config>): Promise<MailStore> {
  const engine = config.engines.store;
  switch (engine.kind) {
    case 'sqlite':
      mkdirSync(config.dataDir, { recursive: true });
      return new SqliteMailStore({ path: join(config.dataDir, 'mail.db') });
    case 'cassandra': {
      const { CassandraMailStore } = await import('../connectors/store/cassandra.ts');
      const where = `${engine.contactPoints.join(',')} (data center ${engine.localDataCenter}, keyspace ${engine.keyspace})`;
      return opening('store', 'cassandra', where, () =>
        CassandraMailStore.open({
          contactPoints: engine.contactPoints,
          localDataCenter: engine.localDataCenter,
          keyspace: engine.keyspace,
          replication: engine.replication,
        }),
      );
    }
  }
}

/**
 * `readers`: threads for IMAP substring matches on the embedded index (`SqliteSearchIndexOptions.readers`);
 * `writerThread`: its writes made by a thread of their own (`SqliteSearchIndexOptions.writerThread`).
 */
export async function openSearchIndex(config: Readonly<Config>, options: { readers?: number; writerThread?: boolean } = {}): Promise<SearchIndex> {
  const engine = config.engines.search;
  switch (engine.kind) {
    case 'sqlite':
      mkdirSync(config.dataDir, { recursive: true });
      return new SqliteSearchIndex({ path: join(config.dataDir, 'search.db'), readers: options.readers, writerThread: options.writerThread });
    case 'opensearch': {
      const { OpenSearchSearchIndex } = await import('../connectors/search/opensearch.ts');
      return opening('search', 'opensearch', `${engine.node} index ${engine.index}`, () =>
        OpenSearchSearchIndex.open({ node: engine.node, index: engine.index, shards: engine.shards, replicas: engine.replicas }),
      );
    }
  }
}

/**
 * Each topic's schema: the topics the topology files declare, and the ones a connector keeps
 * for itself (the outgoing queue's control marks).
 */
export function topicSchemas(topologies: readonly Topology[]): Map<string, AvroType> {
  const out = new Map<string, AvroType>([[QUEUE_CONTROL_TOPIC.name, schemaType(QUEUE_CONTROL_SCHEMA)]]);
  for (const t of topologies) for (const topic of t.topics.values()) out.set(topic.name, schemaType(topic.schema));
  return out;
}

/**
 * The log of `engines.log`; with `engines.schemas` kind `registry`, its values framed with their
 * schema's registry id (every topic of `topologies` registered first: `schema-framed.ts`).
 */
export async function openLog(config: Readonly<Config>, topologies: readonly Topology[], options: OpenLogOptions = {}): Promise<Log> {
  const log = await openPlainLog(config, options);
  const schemas = config.engines.schemas;
  if (schemas.kind === 'none') return log;
  const subjectPrefix = config.engines.log.kind === 'kafka' ? config.engines.log.topicPrefix : '';
  try {
    return await opening('schemas', 'registry', schemas.url, async () => {
      const { SchemaFramedLog } = await import('../connectors/log/schema-framed.ts');
      const { ConfluentRegistryClient } = await import('../connectors/log/schemas/registry-client.ts');
      return SchemaFramedLog.open({ inner: log, topics: topicSchemas(topologies), registry: new ConfluentRegistryClient({ url: schemas.url }), subjectPrefix });
    });
  } catch (err) {
    await log.close().catch(() => undefined);
    throw err;
  }
}

export interface OpenLogOptions {
  /** The embedded log fsyncs appends on libuv's thread pool, hiding them from its readers until then (`EmbeddedLogOptions.syncOnPool`). */
  readonly logSyncOnPool?: boolean;
}

function openPlainLog(config: Readonly<Config>, options: OpenLogOptions): Promise<Log> {
  const engine = config.engines.log;
  switch (engine.kind) {
    case 'embedded':
      mkdirSync(config.dataDir, { recursive: true });
      return Promise.resolve(new EmbeddedLog({ path: join(config.dataDir, 'log.db'), syncOnPool: options.logSyncOnPool }));
    case 'kafka':
      return opening('log', 'kafka', `${engine.brokers.join(',')}${engine.topicPrefix ? ` (topic prefix ${engine.topicPrefix})` : ''}`, async () => {
        const { KafkaLog } = await import('../connectors/log/kafka.ts');
        const { PrefixedLog } = await import('../connectors/log/prefixed.ts');
        const kafka = new KafkaLog({
          brokers: engine.brokers,
          clientId: engine.clientId,
          group: { sessionTimeoutMs: engine.sessionTimeout, heartbeatIntervalMs: engine.heartbeatInterval, rebalanceTimeoutMs: engine.rebalanceTimeout },
          transactionTimeoutMs: engine.transactionTimeout,
        });
        try {
          await kafka.topics(); // a broker answers (metadata), or the start stops here with the address
        } catch (err) {
          await kafka.close().catch(() => undefined);
          throw err;
        }
        return engine.topicPrefix === '' ? kafka : new PrefixedLog(kafka, engine.topicPrefix);
      });
  }
}
