/**
 * `sluice serve --config ops/cluster.example.yaml` end to end on the engines `ops/stack up`
 * starts: domain and users made through the CLI in Cassandra; mail sent with Python's smtplib;
 * read and searched over IMAP (imaplib: SEARCH TEXT, RFC 9051 §6.4.4); and then looked for
 * where the config put it — messages in the Cassandra keyspace, documents in the OpenSearch
 * index, bodies in the S3 bucket, log records framed with their schema id from the registry — and
 * not in the data folder. The run has a keyspace, index and
 * bucket of its own (environment overrides, `harness/engines.ts`), dropped at the end. A missing
 * engine fails these tests.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import cassandra from 'cassandra-driver';
import { Client as OpenSearchClient } from '@opensearch-project/opensearch';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { sluice, startSluice, tempDir, waitFor, type RunningSluice } from './harness/server.ts';
import { allMessages, imapSession, metricSum, pythonSend, scrape } from './harness/inspect.ts';
import { configFor, dropNamespaces, namespaceEnv, openStoreFor } from './harness/engines.ts';
import type { StoredMessage } from '../connectors/store/store.ts';
import { KafkaLog } from '../connectors/log/kafka.ts';
import { registeredSchema } from '../connectors/log/schema-framed.ts';
import { ConfluentRegistryClient } from '../connectors/log/schemas/registry-client.ts';
import { unframe } from '../connectors/log/schemas/confluent-wire.ts';
import { schemaType } from '../schemas/registry.ts';

const CLUSTER = 'ops/cluster.example.yaml';
const DOMAIN = 'cluster.test';
const USERS = [`alice@${DOMAIN}`, `bob@${DOMAIN}`];
const COUNT = 40;

describe('sluice serve --config ops/cluster.example.yaml (Kafka, Cassandra, OpenSearch, S3)', () => {
  const dataDir = tempDir('sluice-cluster-');
  const env = namespaceEnv(dataDir, CLUSTER);
  const config = configFor(dataDir, CLUSTER);
  const cli = (args: string[], stdin?: string) => sluice([...args, '--config', CLUSTER], { dataDir, env, stdin });
  let server: RunningSluice;
  let acks: { ack: string; rcpt: string; n: number }[] = [];
  let stored: StoredMessage[] = [];

  beforeAll(async () => {
    expect(config.engines.store.kind).toBe('cassandra');
    for (const args of [['domain', 'add', DOMAIN], ...USERS.map((u) => ['user', 'add', u, '--password-stdin'])]) {
      const r = await cli(args, 'secret\n');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    server = await startSluice({ dataDir, env, args: ['--config', CLUSTER] });
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await dropNamespaces();
  }, 120_000);

  it('keeps the directory in Cassandra: the CLI lists what it added, the keyspace holds it', async () => {
    const listed = await cli(['user', 'list']);
    expect(listed.stdout.trim().split('\n').sort()).toEqual(USERS);
    const store = config.engines.store;
    if (store.kind !== 'cassandra') throw new Error('not on cassandra');
    const client = new cassandra.Client({ contactPoints: [...store.contactPoints], localDataCenter: store.localDataCenter, keyspace: store.keyspace });
    try {
      const users = await client.execute('SELECT id FROM users');
      expect(users.rows.map((r) => String(r.get('id'))).sort()).toEqual(USERS);
      expect((await client.execute('SELECT name FROM domains')).rows.map((r) => String(r.get('name')))).toEqual([DOMAIN]);
    } finally {
      await client.shutdown();
    }
  });

  it('receives over SMTP, stores each message once, and serves it over IMAP with SEARCH TEXT', async () => {
    const events = await pythonSend({ port: server.smtpPort, users: USERS.join(','), count: COUNT, concurrency: 2, 'per-conn': 10, 'thread-size': 4, size: 2000 });
    expect(events.filter((e) => e.fail)).toEqual([]);
    acks = events.filter((e) => e.ack).map((e) => ({ ack: e.ack!, rcpt: e.rcpt!, n: e.n! }));
    expect(acks.length).toBe(COUNT);
    await waitFor('all indexed', async () => metricSum(await scrape(server.httpPort), 'sluice_stage_records_total', { stage: 'index', outcome: 'ok' }) >= COUNT, 120_000);

    const store = await openStoreFor(dataDir, CLUSTER);
    try {
      stored = await allMessages(store, USERS);
    } finally {
      await store.close();
    }
    expect(stored.length).toBe(COUNT);
    expect(new Set(stored.map((m) => m.messageId))).toEqual(new Set(acks.map((a) => a.ack)));

    for (const user of USERS) {
      const mine = acks.filter((a) => a.rcpt === user);
      const probe = mine[mine.length - 1];
      const session = await imapSession(server.imapPort, user, ['select:INBOX', `uidsearch:TEXT uniqword${probe.n}x`, 'uidsearch:TEXT uniqword999999x']);
      expect(session.login).toBe('OK');
      const [select, found, none] = session.steps;
      expect(select.typ).toBe('OK');
      expect(select.data).toEqual([String(mine.length)]);
      const uid = stored.find((m) => m.messageId === probe.ack)!.uid;
      expect(found).toMatchObject({ typ: 'OK', data: [String(uid)] });
      expect(none).toMatchObject({ typ: 'OK', data: [''] });
    }
  });

  it('put the messages in Cassandra, the documents in OpenSearch and the bodies in S3 — not in the data folder', async () => {
    expect(stored.length).toBe(COUNT);
    const { store, search, blobs } = config.engines;
    if (store.kind !== 'cassandra' || search.kind !== 'opensearch' || blobs.kind !== 's3') throw new Error('not the cluster config');

    const client = new cassandra.Client({ contactPoints: [...store.contactPoints], localDataCenter: store.localDataCenter, keyspace: store.keyspace });
    try {
      const keys = await client.execute('SELECT message_key FROM message_keys');
      expect(new Set(keys.rows.map((r) => String(r.get('message_key'))))).toEqual(new Set(stored.map((m) => m.messageKey)));
      let unread = 0;
      for (const user of USERS) unread += (await client.execute('SELECT uid FROM unread_messages WHERE user_id = ?', [user], { prepare: true })).rowLength;
      expect(unread).toBe(COUNT);
    } finally {
      await client.shutdown();
    }

    const os = new OpenSearchClient({ node: search.node });
    try {
      await os.indices.refresh({ index: search.index });
      const counted = await os.count({ index: search.index });
      expect(counted.body.count).toBe(COUNT);
    } finally {
      await os.close();
    }

    const s3 = new S3Client({
      endpoint: blobs.endpoint,
      region: blobs.region,
      forcePathStyle: true,
      credentials: { accessKeyId: blobs.accessKeyId, secretAccessKey: blobs.secretAccessKey },
    });
    try {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: blobs.bucket }));
      expect(listed.KeyCount ?? 0).toBeGreaterThanOrEqual(COUNT);
      for (const m of stored) {
        const key = `${blobs.prefix}sha256/${m.body.skeletonBlob.slice(0, 2)}/${m.body.skeletonBlob}`;
        await expect(s3.send(new HeadObjectCommand({ Bucket: blobs.bucket, Key: key }))).resolves.toBeTruthy();
      }
    } finally {
      s3.destroy();
    }

    for (const file of ['log.db', 'mail.db', 'search.db', 'blobs.db', 'blobs']) expect(existsSync(join(dataDir, file)), file).toBe(false);
  });

  it('framed every record on Kafka with its schema id in the registry (Confluent wire format)', async () => {
    const { log, schemas } = config.engines;
    if (log.kind !== 'kafka' || schemas.kind !== 'registry') throw new Error('not the cluster config');
    const registry = new ConfluentRegistryClient({ url: schemas.url });
    const kafka = new KafkaLog({ brokers: log.brokers, clientId: 'sluice-e2e-inspect' });
    try {
      const topic = `${log.topicPrefix}mail.received`;
      const raw = (await Promise.all((await kafka.endOffsets(topic)).map((end, p) => kafka.read(topic, p, 0, end)))).flat();
      expect(raw.length).toBe(COUNT);
      const ids = new Set(raw.map((r) => unframe(r.value).id));
      expect(ids.size).toBe(1);
      expect(JSON.parse(await registry.schema([...ids][0]))).toEqual(JSON.parse(registeredSchema(schemaType('MailReceived'))));
    } finally {
      await kafka.close();
    }
  });

  it('fails the start naming the engine and its address when one does not answer', async () => {
    const refused = await sluice(['domain', 'list', '--config', CLUSTER], { dataDir, env: { ...env, SLUICE_ENGINES_STORE_CONTACT_POINTS: '127.0.0.1:1' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/store engine cassandra at 127\.0\.0\.1:1 .*cannot be used/);

    const serving = startSluice({ dataDir: tempDir('sluice-cluster-'), env: { ...env, SLUICE_ENGINES_SEARCH_NODE: 'http://127.0.0.1:1' }, args: ['--config', CLUSTER] });
    await expect(serving).rejects.toThrow(/search engine opensearch at http:\/\/127\.0\.0\.1:1 index sluice-e2e-\w+ cannot be used/);
  });
});
