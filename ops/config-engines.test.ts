/** `engines.*` of the config: the embedded defaults, picking an engine by file or environment, and the errors. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ConfigError, environmentKeys, loadConfig, PROJECT_ROOT } from './config.ts';

/** The consumer-group and transaction timings of `engines.log` on Kafka, by default (ms). */
const GROUP_DEFAULTS = { sessionTimeout: 10_000, heartbeatInterval: 1_000, rebalanceTimeout: 20_000, transactionTimeout: 10_000 };

describe('engines config', () => {
  it('defaults to the embedded engines', () => {
    expect(loadConfig({ env: {} }).engines).toEqual({ store: { kind: 'sqlite' }, search: { kind: 'sqlite' }, blobs: { kind: 'files' }, log: { kind: 'embedded' } });
  });

  it('reads ops/cluster.example.yaml: Kafka, Cassandra, OpenSearch, S3 at the addresses of ops/stack', () => {
    const { engines } = loadConfig({ file: join(PROJECT_ROOT, 'ops/cluster.example.yaml'), env: {} });
    expect(engines).toEqual({
      log: { kind: 'kafka', brokers: ['127.0.0.1:19092'], clientId: 'sluice', topicPrefix: '', ...GROUP_DEFAULTS },
      store: { kind: 'cassandra', contactPoints: ['127.0.0.1:19042'], localDataCenter: 'datacenter1', keyspace: 'sluice', replication: { datacenter1: 1 } },
      search: { kind: 'opensearch', node: 'http://127.0.0.1:19200', index: 'sluice-mail', shards: 1, replicas: 0 },
      blobs: { kind: 's3', endpoint: 'http://127.0.0.1:19000', region: 'us-east-1', bucket: 'sluice-mail', accessKeyId: 'sluice', secretAccessKey: 'sluice-secret-key', prefix: '', forcePathStyle: true },
    });
    expect(Object.isFrozen(engines.store)).toBe(true);
  });

  it('takes every engine option from SLUICE_ENGINES_… (lists and replication comma-separated) over the file', () => {
    const config = loadConfig({
      file: join(PROJECT_ROOT, 'ops/cluster.example.yaml'),
      env: {
        SLUICE_ENGINES_STORE_CONTACT_POINTS: '10.0.0.1:9042, 10.0.0.2:9042',
        SLUICE_ENGINES_STORE_KEYSPACE: 'mail_2',
        SLUICE_ENGINES_STORE_REPLICATION: 'dc1:3,dc2:2',
        SLUICE_ENGINES_SEARCH_SHARDS: '3',
        SLUICE_ENGINES_BLOBS_BUCKET: 'other-bucket',
        SLUICE_ENGINES_BLOBS_FORCE_PATH_STYLE: 'false',
      },
    });
    expect(config.engines.store).toMatchObject({ contactPoints: ['10.0.0.1:9042', '10.0.0.2:9042'], keyspace: 'mail_2', replication: { dc1: 3, dc2: 2 } });
    expect(config.engines.search).toMatchObject({ kind: 'opensearch', shards: 3 });
    expect(config.engines.blobs).toMatchObject({ bucket: 'other-bucket', forcePathStyle: false });
    const variables = environmentKeys().map((k) => k.variable);
    for (const v of ['SLUICE_ENGINES_STORE_KIND', 'SLUICE_ENGINES_SEARCH_NODE', 'SLUICE_ENGINES_BLOBS_SECRET_ACCESS_KEY', 'SLUICE_ENGINES_LOG_KIND']) expect(variables).toContain(v);
  });

  it('picks an engine from the environment alone', () => {
    const { engines } = loadConfig({ env: { SLUICE_ENGINES_STORE_KIND: 'cassandra', SLUICE_ENGINES_STORE_CONTACT_POINTS: '127.0.0.1:19042' } });
    expect(engines.store).toEqual({ kind: 'cassandra', contactPoints: ['127.0.0.1:19042'], localDataCenter: 'datacenter1', keyspace: 'sluice' });
  });

  it('refuses an unknown kind, options without their kind, missing addresses and bad names', () => {
    const error = (env: Record<string, string>) => {
      try {
        loadConfig({ env });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(error({ SLUICE_ENGINES_LOG_KIND: 'pulsar' })).toMatch(/engines\.log\.kind: one of embedded, kafka/);
    expect(error({ SLUICE_ENGINES_LOG_KIND: 'kafka' })).toMatch(/engines\.log\.brokers/);
    expect(loadConfig({ env: { SLUICE_ENGINES_LOG_KIND: 'kafka', SLUICE_ENGINES_LOG_BROKERS: 'k1:9092, k2:9092', SLUICE_ENGINES_LOG_TOPIC_PREFIX: 'dc1.' } }).engines.log)
      .toEqual({ kind: 'kafka', brokers: ['k1:9092', 'k2:9092'], clientId: 'sluice', topicPrefix: 'dc1.', ...GROUP_DEFAULTS });
    expect(loadConfig({ env: { SLUICE_ENGINES_LOG_KIND: 'kafka', SLUICE_ENGINES_LOG_BROKERS: 'k1:9092', SLUICE_ENGINES_LOG_SESSION_TIMEOUT: '6s', SLUICE_ENGINES_LOG_HEARTBEAT_INTERVAL: '500ms' } }).engines.log)
      .toMatchObject({ sessionTimeout: 6_000, heartbeatInterval: 500, rebalanceTimeout: 20_000 });
    expect(error({ SLUICE_ENGINES_LOG_KIND: 'kafka', SLUICE_ENGINES_LOG_BROKERS: 'k1:9092', SLUICE_ENGINES_LOG_SESSION_TIMEOUT: '30s' }))
      .toMatch(/heartbeatInterval ≤ sessionTimeout ≤ rebalanceTimeout/);
    expect(error({ SLUICE_ENGINES_STORE_KEYSPACE: 'x' })).toMatch(/engines\.store\.kind: one of sqlite, cassandra/);
    expect(error({ SLUICE_ENGINES_BLOBS_KIND: 's3' })).toMatch(/engines\.blobs\.endpoint[\s\S]*engines\.blobs\.bucket/);
    expect(error({ SLUICE_ENGINES_STORE_KIND: 'cassandra', SLUICE_ENGINES_STORE_CONTACT_POINTS: '127.0.0.1:19042', SLUICE_ENGINES_STORE_KEYSPACE: 'no-dashes' })).toMatch(/engines\.store\.keyspace/);
    expect(error({ SLUICE_ENGINES_STORE_KIND: 'cassandra', SLUICE_ENGINES_STORE_CONTACT_POINTS: '127.0.0.1:19042', SLUICE_ENGINES_STORE_REPLICATION: 'dc1' })).toMatch(/engines\.store\.replication/);
    expect(error({ SLUICE_ENGINES_SEARCH_KIND: 'sqlite', SLUICE_ENGINES_SEARCH_NODE: 'http://x' })).toMatch(/engines\.search/);
  });
});
