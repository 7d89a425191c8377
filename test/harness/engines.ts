/**
 * The engines an end-to-end test runs on. By default the embedded ones in the data folder.
 * A test file that calls `useEngines('ops/cluster.example.yaml')` (use-engines.ts) first runs every server and
 * CLI command of the harness with that config (`SLUICE_CONFIG`), and each data folder gets a
 * namespace of its own on the shared engines — a Cassandra keyspace, an OpenSearch index, an S3
 * bucket, named from the folder's path — so runs and tests never see each other's mail. The
 * namespaces this process made are dropped after the file's tests.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../ops/config.ts';
import { openStore } from '../../ops/app.ts';
import { openBlobStore, openSearchIndex } from '../../ops/open-engines.ts';
import type { MailStore } from '../../connectors/store/store.ts';
import type { SearchIndex } from '../../connectors/search/search.ts';
import type { BlobStore } from '../../connectors/blob/blob.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

const used = new Map<string, Readonly<Config>>();

/**
 * Runs this process's servers and CLI commands on the engines of `configFile` (relative to the
 * repository); `test/harness/use-engines.ts` also drops the namespaces after the file's tests.
 */
export function runOnEngines(configFile: string): void {
  process.env.SLUICE_CONFIG = resolve(ROOT, configFile);
}

/** The environment that gives `dataDir` its own keyspace, index and bucket; empty on the embedded engines. */
export function engineEnv(dataDir: string): Record<string, string> {
  const file = process.env.SLUICE_CONFIG;
  return file ? namespaceEnv(dataDir, file) : {};
}

/**
 * The environment that gives `dataDir` its own keyspace, index and bucket on the engines of
 * `configFile`, remembered for `dropNamespaces`.
 */
export function namespaceEnv(dataDir: string, configFile: string): Record<string, string> {
  const tag = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12);
  const env: Record<string, string> = {
    SLUICE_ENGINES_STORE_KEYSPACE: `sluice_e2e_${tag}`,
    SLUICE_ENGINES_SEARCH_INDEX: `sluice-e2e-${tag}`,
    SLUICE_ENGINES_BLOBS_BUCKET: `sluice-e2e-${tag}`,
  };
  // On Kafka, topics and consumer groups of their own (left on the test cluster afterwards); with
  // `engines.schemas` kind registry (ops/cluster.example.yaml) the registry subjects follow the
  // topic names, `<prefix><topic>-value`, so they are the run's own too (left there as well).
  if (loadConfig({ file: resolve(ROOT, configFile), env: {} }).engines.log.kind === 'kafka') env.SLUICE_ENGINES_LOG_TOPIC_PREFIX = `e2e-${tag}.`;
  if (!used.has(dataDir)) used.set(dataDir, configOf(dataDir, resolve(ROOT, configFile), env));
  return env;
}

/** The config a server of the harness on `dataDir` runs with. */
export function configFor(dataDir: string, configFile = process.env.SLUICE_CONFIG): Readonly<Config> {
  const file = configFile && resolve(ROOT, configFile);
  return configOf(dataDir, file, file ? namespaceEnv(dataDir, file) : {});
}

function configOf(dataDir: string, file: string | undefined, env: Record<string, string>): Readonly<Config> {
  return loadConfig({ file, env: { ...process.env, ...env }, overrides: { dataDir } });
}

/** The store, index and blobs a server of the harness on `dataDir` uses, opened from this process. */
export function openStoreFor(dataDir: string, configFile?: string): Promise<MailStore> {
  return openStore(configFor(dataDir, configFile ?? process.env.SLUICE_CONFIG));
}

export function openSearchFor(dataDir: string, configFile?: string): Promise<SearchIndex> {
  return openSearchIndex(configFor(dataDir, configFile ?? process.env.SLUICE_CONFIG));
}

export function openBlobsFor(dataDir: string, configFile?: string): Promise<BlobStore> {
  return openBlobStore(configFor(dataDir, configFile ?? process.env.SLUICE_CONFIG));
}

/** Drops the keyspaces, indexes and buckets this process's data folders used on the distributed engines. */
export async function dropNamespaces(): Promise<void> {
  for (const config of used.values()) {
    const { store, search, blobs } = config.engines;
    if (store.kind === 'cassandra') {
      const { default: cassandra } = await import('cassandra-driver');
      const client = new cassandra.Client({ contactPoints: [...store.contactPoints], localDataCenter: store.localDataCenter });
      try {
        await client.execute(`DROP KEYSPACE IF EXISTS ${store.keyspace}`);
      } finally {
        await client.shutdown();
      }
    }
    if (search.kind === 'opensearch') {
      const { Client } = await import('@opensearch-project/opensearch');
      const client = new Client({ node: search.node });
      try {
        await client.indices.delete({ index: search.index, ignore_unavailable: true });
      } finally {
        await client.close();
      }
    }
    if (blobs.kind === 's3') await emptyAndDropBucket(blobs);
  }
  used.clear();
}

async function emptyAndDropBucket(blobs: Extract<Config['engines']['blobs'], { kind: 's3' }>): Promise<void> {
  const s3 = await import('@aws-sdk/client-s3');
  const client = new s3.S3Client({
    endpoint: blobs.endpoint,
    region: blobs.region,
    forcePathStyle: blobs.forcePathStyle,
    credentials: { accessKeyId: blobs.accessKeyId, secretAccessKey: blobs.secretAccessKey },
  });
  try {
    for (;;) {
      const page = await client.send(new s3.ListObjectsV2Command({ Bucket: blobs.bucket }));
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
      if (keys.length === 0) break;
      await client.send(new s3.DeleteObjectsCommand({ Bucket: blobs.bucket, Delete: { Objects: keys } }));
    }
    await client.send(new s3.DeleteBucketCommand({ Bucket: blobs.bucket }));
  } catch (error) {
    if ((error as { name?: string }).name !== 'NoSuchBucket') throw error;
  } finally {
    client.destroy();
  }
}
