/**
 * The ops dashboard of `sluice serve --config ops/cluster.example.yaml` on the engines
 * `ops/stack up` starts: /ops.json reports the four engines healthy with their kinds (kafka,
 * cassandra, opensearch, s3), /metrics says the same, and lag read from Kafka drains to zero
 * once mail has gone through; a dead letter counts once (not its transaction marker). The run has a keyspace, index, bucket and topic prefix of its own
 * (`harness/engines.ts`). A missing engine fails these tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { provision, startSluice, tempDir, waitFor, type RunningSluice } from './harness/server.ts';
import { metricSum, scrape } from './harness/inspect.ts';
import { useEngines } from './harness/use-engines.ts';
import { configFor } from './harness/engines.ts';
import { openLog } from '../ops/open-engines.ts';
import { schemaType } from '../schemas/registry.ts';
import type { MailReceived } from '../schemas/types.ts';
import type { OpsSnapshot } from '../ops/dashboard/snapshot.ts';

const CLUSTER = 'ops/cluster.example.yaml';
const USER = 'ops@cluster.test';
const COUNT = 5;

async function opsJson(port: number): Promise<OpsSnapshot> {
  const res = await fetch(`http://127.0.0.1:${port}/ops.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as OpsSnapshot;
}

useEngines(CLUSTER);

describe('/ops on Kafka, Cassandra, OpenSearch and S3', () => {
  const dataDir = tempDir('sluice-ops-cluster-');
  let server: RunningSluice;

  beforeAll(async () => {
    await provision(dataDir, 'cluster.test', [USER]);
    server = await startSluice({ dataDir });
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
  }, 120_000);

  it('reports the four engines healthy with their kinds, on /ops.json and /metrics', async () => {
    const { engines } = await opsJson(server.httpPort);
    const by = Object.fromEntries(engines.map((e) => [e.engine, e]));
    expect(by.log).toMatchObject({ kind: 'kafka', ok: true, configured: true, detail: '1 broker' });
    expect(by.store).toMatchObject({ kind: 'cassandra', ok: true, configured: true });
    expect(by.store.detail).toMatch(/^Cassandra 5\./);
    expect(by.search).toMatchObject({ kind: 'opensearch', ok: true, configured: true });
    expect(by.search.detail).toMatch(/^index (green|yellow)$/);
    expect(by.blobs).toMatchObject({ kind: 's3', ok: true, configured: true });
    for (const e of [by.log, by.store, by.search, by.blobs]) expect(e.latencyMs).toBeGreaterThan(0);

    const text = await scrape(server.httpPort);
    for (const [engine, kind] of [['log', 'kafka'], ['store', 'cassandra'], ['search', 'opensearch'], ['blobs', 's3']]) {
      expect(text).toContain(`sluice_engine_up{engine="${engine}",kind="${kind}"} 1`);
      expect(metricSum(text, 'sluice_engine_check_seconds', { engine, kind })).toBeGreaterThan(0);
    }
  });

  it('reads the lag of every stage from Kafka, and it drains once the mail is through', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true });
    for (let i = 0; i < COUNT; i++) await transport.sendMail({ from: 'a@client.test', to: USER, subject: `ops ${i}`, text: `ops ${i}` });
    transport.close();
    const snapshot = await waitFor('indexed, nothing left behind in inbound', async () => {
      const s = await opsJson(server.httpPort);
      const inbound = s.topologies.find((t) => t.name === 'inbound')!;
      const index = inbound.stages.find((st) => st.stage === 'index')!;
      const through = index.partitions.reduce((sum, p) => sum + p.committed, 0) > 0;
      return through && inbound.stages.every((st) => st.lagRecords === 0 && !st.error) ? s : undefined;
    }, 120_000);
    const parse = snapshot.topologies.find((t) => t.name === 'inbound')!.stages.find((s) => s.stage === 'parse')!;
    expect(parse.group).toBe('inbound.parse');
    expect(parse.partitions.length).toBeGreaterThan(0);
    expect(parse.partitions.reduce((sum, p) => sum + p.committed, 0)).toBeGreaterThanOrEqual(COUNT);
    expect(parse.throughput.last1m.recordsPerSecond * 60).toBeGreaterThanOrEqual(COUNT);
    expect(parse.deadLetter).toMatchObject({ topic: 'parse.dlq', records: 0 });
    const text = await scrape(server.httpPort);
    expect(metricSum(text, 'sluice_consumer_lag_records', { group: 'inbound.parse' })).toBe(0);
    expect(metricSum(text, 'sluice_consumer_committed_offset', { group: 'inbound.parse' })).toBeGreaterThanOrEqual(COUNT);
  });

  it('counts a dead letter on Kafka once (the commit\'s transaction marker is not a record)', async () => {
    // A mail.received record whose raw message is in no bucket: parse dead-letters it.
    const record: MailReceived = {
      ingressId: 'ops-poison-kafka', userId: USER, recipient: USER, mailFrom: 'a@client.test', source: 'smtp', remoteAddress: '127.0.0.1',
      helo: 'client.test', receivedAt: Date.now(), rawBlob: 'f'.repeat(64), size: 10, mailbox: 'INBOX', flags: [],
    };
    const log = await openLog(configFor(dataDir));
    try {
      await log.produce([{ topic: 'mail.received', key: USER, value: schemaType('MailReceived').toBuffer(record) }]);
    } finally {
      await log.close();
    }
    const parse = await waitFor('the dead letter counted', async () => {
      const s = (await opsJson(server.httpPort)).topologies.find((t) => t.name === 'inbound')!.stages.find((st) => st.stage === 'parse')!;
      return s.deadLetter && s.deadLetter.records > 0 && s.lagRecords === 0 ? s : undefined;
    }, 60_000);
    expect(parse.deadLetter).toEqual({ topic: 'parse.dlq', records: 1, topicRecords: 1, sharedWith: [] });
    const text = await scrape(server.httpPort);
    expect(metricSum(text, 'sluice_dead_letter_records', { topic: 'parse.dlq' })).toBe(1);
    expect(metricSum(text, 'sluice_topic_end_offset', { topic: 'parse.dlq' })).toBeGreaterThan(1); // the record and its commit's marker
  });
});
