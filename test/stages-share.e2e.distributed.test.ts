/**
 * Two `stages` processes share the work as one consumer group per stage, on the engines
 * `ops/stack up` starts: one `sluice serve --roles ingress,access` process and two
 * `--roles stages` processes with one cluster config and one data folder (its own keyspace,
 * index, bucket and topic prefix from harness/engines.ts). Each stage's partitions are split
 * between the two (their /metrics and the group as Kafka describes it); mail sent while both run
 * is stored once and searchable; a stages process killed with SIGKILL while a batch of mail is
 * under way loses its partitions to the survivor within the session timeout, the lag drains to
 * 0, and every message that got a 250 is in its user's mailbox exactly once (by Message-ID over
 * IMAP). The session timeout is 6 s here (`engines.log.sessionTimeout`, default 10 s) to keep
 * the run short. A missing engine fails these tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import nodemailer, { type Transporter } from 'nodemailer';
import { Admin } from '@platformatic/kafka';
import { sluice, startSluice, tempDir, waitFor, type RunningSluice } from './harness/server.ts';
import { imapSession, metricSum, scrape } from './harness/inspect.ts';
import { configFor, dropNamespaces, namespaceEnv } from './harness/engines.ts';
import { runningServerPid } from '../ops/server-lock.ts';
import type { OpsSnapshot, StageSnapshot } from '../ops/dashboard/snapshot.ts';

const CLUSTER = 'ops/cluster.example.yaml';
const DOMAIN = 'share.test';
const USERS = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay'].map((u) => `${u}@${DOMAIN}`);
const SESSION_TIMEOUT_MS = 6_000;
/** The takeover may take this much longer than the session timeout. */
const TAKEOVER_MARGIN_MS = 20_000;
/** Messages sent around the kill. */
const BATCH = 150;
/** Sent before the kill, so that it falls while mail is under way. */
const BEFORE_KILL = 40;

async function opsJson(port: number): Promise<OpsSnapshot> {
  const res = await fetch(`http://127.0.0.1:${port}/ops.json`);
  if (!res.ok) throw new Error(`/ops.json answered ${res.status}`);
  return (await res.json()) as OpsSnapshot;
}

const stagesOf = (s: OpsSnapshot): StageSnapshot[] => s.topologies.flatMap((t) => t.stages);
/** The partitions of a stage's input. */
const partitionCount = (s: StageSnapshot): number => new Set(s.partitions.map((p) => `${p.topic}/${p.partition}`)).size;

/** Partitions each stage's consumer owns in one process, from its /metrics. */
async function ownedBy(server: RunningSluice, stages: readonly StageSnapshot[]): Promise<Map<string, number>> {
  const text = await scrape(server.httpPort);
  return new Map(stages.map((s) => [s.stage, metricSum(text, 'sluice_stage_owned_partitions', { stage: s.stage })]));
}

/** Message-IDs in a user's INBOX, over IMAP on the access process (duplicates kept). */
async function messageIds(port: number, user: string): Promise<string[]> {
  const client = new ImapFlow({ host: '127.0.0.1', port, secure: true, tls: { rejectUnauthorized: false }, auth: { user, pass: 'secret' }, logger: false });
  await client.connect();
  try {
    const box = await client.mailboxOpen('INBOX', { readOnly: true });
    if (box.exists === 0) return [];
    const ids: string[] = [];
    for await (const m of client.fetch('1:*', { envelope: true })) ids.push(m.envelope?.messageId ?? '');
    return ids;
  } finally {
    await client.logout().catch(() => undefined);
  }
}

describe('two `stages` processes share the partitions; killing one moves them to the other', () => {
  const dataDir = tempDir('sluice-share-');
  const env = { ...namespaceEnv(dataDir, CLUSTER), SLUICE_ENGINES_LOG_SESSION_TIMEOUT: `${SESSION_TIMEOUT_MS}ms` };
  const cli = (args: string[], stdin?: string) => sluice([...args, '--config', CLUSTER], { dataDir, env, stdin });
  const start = (roles: string) => startSluice({ dataDir, env, args: ['--config', CLUSTER, '--roles', roles] });
  const running: RunningSluice[] = [];
  let front: RunningSluice;
  let stagesA: RunningSluice;
  let stagesB: RunningSluice;
  let stages: StageSnapshot[] = [];
  let seq = 0;
  const transport = () => nodemailer.createTransport({ host: '127.0.0.1', port: front.smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 4 });
  /** Sends one message to a user, round robin; resolves with its Message-ID once it got a 250. */
  const send = async (t: Transporter, word: string): Promise<{ user: string; id: string }> => {
    const n = ++seq;
    const user = USERS[n % USERS.length];
    const id = `<share-${n}-${process.pid}@${DOMAIN}>`;
    const info = await t.sendMail({ from: 'someone@example.org', to: user, subject: `share ${n}`, text: `message ${n} ${word}`, messageId: id });
    expect(info.response).toMatch(/^250/);
    return { user, id };
  };

  beforeAll(async () => {
    expect(configFor(dataDir, CLUSTER).engines.log.kind).toBe('kafka');
    expect((await cli(['domain', 'add', DOMAIN])).code).toBe(0);
    for (const user of USERS) {
      const r = await cli(['user', 'add', user, '--password-stdin'], 'secret\n');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    // The front first (it makes the topics), then both stages processes at once.
    front = await start('ingress,access');
    running.push(front);
    const started = await Promise.allSettled([start('stages'), start('stages')]);
    for (const s of started) if (s.status === 'fulfilled') running.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    [stagesA, stagesB] = running.slice(1);
    stages = stagesOf(await opsJson(front.httpPort));
  }, 400_000);

  afterAll(async () => {
    await Promise.all(running.map((s) => s.stop()));
    await dropNamespaces();
  }, 180_000);

  it("splits each stage's partitions between the two processes: disjoint, together all of them", async () => {
    expect(stages.length).toBeGreaterThan(0);
    const inbound = stages.filter((s) => partitionCount(s) === 4);
    expect(inbound.map((s) => s.stage)).toContain('store');
    // Both members have joined and the group has settled: every stage's partitions owned once over.
    const [a, b] = await waitFor('both stages processes to own their share', async () => {
      const [a, b] = await Promise.all([ownedBy(stagesA, stages), ownedBy(stagesB, stages)]);
      const settled = stages.every((s) => (a.get(s.stage) ?? 0) + (b.get(s.stage) ?? 0) === partitionCount(s)) &&
        inbound.every((s) => (a.get(s.stage) ?? 0) > 0 && (b.get(s.stage) ?? 0) > 0);
      return settled && [a, b];
    }, 90_000, 500);
    console.log(`stages share: owned partitions per stage ${JSON.stringify(stages.map((s) => [s.stage, a.get(s.stage), b.get(s.stage)]))}`);
    for (const s of inbound) expect([a.get(s.stage), b.get(s.stage)]).toEqual([2, 2]); // range assignor: 4 over 2 members

    // One data folder, both marked as running the stages (serve.pid, one line each).
    const marked = readFileSync(join(dataDir, 'serve.pid'), 'utf8').trim().split('\n').map(Number).sort((x, y) => x - y);
    expect(marked).toEqual([stagesA.child.pid ?? 0, stagesB.child.pid ?? 0].sort((x, y) => x - y));

    // Disjoint: the group as the coordinator describes it, two members, no partition twice.
    const log = configFor(dataDir, CLUSTER).engines.log;
    if (log.kind !== 'kafka') throw new Error('not on Kafka');
    const { brokers, topicPrefix: prefix } = log; // this run's prefix (harness/engines.ts)
    const admin = new Admin({ clientId: 'sluice-share-test', bootstrapBrokers: [...brokers] });
    try {
      const groups = await admin.describeGroups({ groups: inbound.map((s) => prefix + s.group) });
      for (const s of inbound) {
        const group = groups.get(prefix + s.group);
        expect(group?.members.size).toBe(2);
        const owned = [...(group?.members.values() ?? [])].map((m) => [...(m.assignments?.values() ?? [])].flatMap((g) => g.partitions.map((p) => `${g.topic}/${p}`)));
        expect(owned.map((o) => o.length)).toEqual([2, 2]);
        expect(new Set(owned.flat()).size).toBe(4);
      }
    } finally {
      await admin.close();
    }
  }, 120_000);

  it('mail sent while both run is stored once and searchable over IMAP on the access process', async () => {
    const t = transport();
    const sent = [];
    try {
      for (let i = 0; i < USERS.length * 2; i++) sent.push(await send(t, 'bothrunningword'));
    } finally {
      t.close();
    }
    for (const user of USERS) {
      const want = sent.filter((s) => s.user === user).map((s) => s.id).sort();
      const got = await waitFor(`${user}'s mail`, async () => {
        const ids = await messageIds(front.imapsPort, user);
        return ids.length >= want.length && ids;
      }, 90_000, 500);
      expect(got.sort()).toEqual(want);
    }
    const found = await waitFor('found by SEARCH TEXT', async () => {
      const s = await imapSession(front.imapPort, USERS[1], ['examine:INBOX', 'uidsearch:TEXT bothrunningword']);
      return s.steps[1].data[0] === '1 2' ? s : undefined;
    }, 60_000, 1000);
    expect(found.steps[1].data[0]).toBe('1 2');
    // Both processes ran the store stage.
    for (const p of [stagesA, stagesB]) expect(metricSum(await scrape(p.httpPort), 'sluice_stage_records_total', { stage: 'store', outcome: 'ok' })).toBeGreaterThan(0);
  }, 240_000);

  it('SIGKILL of one while mail flows: the survivor owns every partition, the lag drains, every 250 is stored exactly once', async () => {
    const before = new Map(await Promise.all(USERS.map(async (u) => [u, await messageIds(front.imapsPort, u)] as const)));
    const t = transport();
    const acked: { user: string; id: string }[] = [];
    let killedAt = 0;
    try {
      const batch = (async () => {
        // Four at a time over the pool, so mail is under way in every stage when the kill falls.
        const queue = Array.from({ length: BATCH }, (_, i) => i);
        await Promise.all([0, 1, 2, 3].map(async () => {
          while (queue.shift() !== undefined) acked.push(await send(t, 'underwayword'));
        }));
      })();
      await waitFor('mail under way', async () => acked.length >= BEFORE_KILL, 120_000, 20);
      await stagesB.kill();
      killedAt = Date.now();
      console.log(`stages share: SIGKILL after ${acked.length} of ${BATCH} messages got their 250`);

      // When each stage's group gave the survivor all its partitions.
      const tookOver = new Map<string, number>();
      const all = await waitFor('the survivor to own every partition', async () => {
        const a = await ownedBy(stagesA, stages);
        for (const s of stages) if (a.get(s.stage) === partitionCount(s) && !tookOver.has(s.stage)) tookOver.set(s.stage, Date.now() - killedAt);
        return tookOver.size === stages.length && a;
      }, SESSION_TIMEOUT_MS + TAKEOVER_MARGIN_MS + 10_000, 200);
      const takeoverMs = Date.now() - killedAt;
      const perStage = [...tookOver.values()].sort((x, y) => x - y);
      console.log(`stages share: kill → survivor owns all ${[...all.values()].reduce((x, y) => x + y, 0)} partitions in ${takeoverMs} ms ` +
        `(session timeout ${SESSION_TIMEOUT_MS} ms; per stage first ${perStage[0]} ms, median ${perStage[perStage.length >> 1]} ms, store ${tookOver.get('store')} ms)`);
      // The session timeout, then the rebalance of every stage's group (16 here) on a shared 2-core machine (7–15 s measured).
      expect(takeoverMs).toBeLessThan(SESSION_TIMEOUT_MS + TAKEOVER_MARGIN_MS);

      await batch;
      const sentAt = Date.now();
      expect(acked).toHaveLength(BATCH);
      const drained = await waitFor('the lag to drain on the survivor', async () => {
        const snap = await opsJson(stagesA.httpPort);
        // A stage whose lag could not be read just now shows an error and no partitions: not drained.
        return snap.logError === null && stagesOf(snap).every((s) => !s.error && s.partitions.length > 0 && s.lagRecords === 0) && snap;
      }, 120_000, 250);
      const drainedAt = Date.now();
      console.log(`stages share: lag 0 on every stage ${drainedAt - killedAt} ms after the kill, ${drainedAt - sentAt} ms after the last 250`);
      expect(stagesOf(drained).find((s) => s.stage === 'store')?.partitions).toHaveLength(4);
    } finally {
      t.close();
    }

    // The folder is still marked as served: `mailbox import` leaves the storing to the survivor.
    expect(runningServerPid(dataDir)).toBe(stagesA.child.pid);

    // Every 250 in its user's mailbox, exactly once; nothing else arrived.
    for (const user of USERS) {
      const want = [...(before.get(user) ?? []), ...acked.filter((s) => s.user === user).map((s) => s.id)].sort();
      const got = await waitFor(`${user}'s mail after the kill`, async () => {
        const ids = await messageIds(front.imapsPort, user);
        return ids.length >= want.length && ids;
      }, 60_000, 500);
      expect(got.sort()).toEqual(want);
    }
    console.log(`stages share: all ${acked.length} messages of the batch each once in its mailbox; batches dropped in rebalances by the survivor: ${metricSum(await scrape(stagesA.httpPort), 'sluice_stage_rebalances_total')}`);
  }, 400_000);
});
