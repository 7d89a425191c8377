/**
 * Crash test on the real stack (DESIGN.md §1.1, §1.3; issue "Distributed mode", Must show): a
 * Kafka cluster of the test's own with 3 brokers (topics with replication factor 3 and
 * `min.insync.replicas` 2, checked), Cassandra, OpenSearch and S3 of the shared stack (a keyspace,
 * index, bucket and topic prefix of this run's own), an ingress process and a stages process. While
 * Python's smtplib sends messages (a unique Message-ID per attempt; a message whose reply was lost
 * is sent again under a new Message-ID, never the same one) until the rounds are over, each round
 * (3 by default, SLUICE_CRASH_ROUNDS) SIGKILLs one broker and the
 * stages process at random moments, restarts the stages at once and the broker a few seconds later,
 * and SIGKILLs the restarted stages once more while they work off the backlog, the moment one of
 * their transactions is seen open (an output partition's last stable offset below its high-water
 * mark).
 * The processes: `sluice serve --roles ingress,access` (SMTP, IMAP, POP3) and `sluice serve --roles
 * stages` (the pipeline), on the same config and namespace.
 *
 * Afterwards, once the stages have drained:
 * - every message that got a `250` is stored exactly once in its user's mailboxes (read from
 *   Cassandra through the store connector): none lost, none doubled;
 * - aborted transactions leave no visible duplicate downstream: `mailbox.commands` and
 *   `mailbox.events`, read with read_committed, hold each delivery once. It proves something
 *   because the kills land while the stages are busy: a stage produces its outputs inside a
 *   transaction and commits them with its input offsets, so a SIGKILL between produce and commit
 *   leaves records of an open transaction in the topics; the restarted stage fences it (the
 *   coordinator writes an ABORT marker) and produces the same records again. The test reads every
 *   stage's output topic a second time with read_uncommitted and requires that such aborted
 *   records exist (otherwise no kill hit a transaction in flight and the run proves nothing: the
 *   rounds go on, up to MAX_ROUNDS, until one has), and
 *   that every id in an aborted record is visible exactly once to read_committed.
 *
 * Run alone (after `ops/stack up`, which starts the shared engines):
 *   npx vitest run --config vitest.distributed.config.ts test/stack-crash.distributed.test.ts
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer as FetchClient, FetchIsolationLevels, ListOffsetTimestamps } from '@platformatic/kafka';
import { KafkaLog } from '../connectors/log/kafka.ts';
import { fetchFrom } from '../connectors/log/kafka/fetch.ts';
import { TopicDirectory, closeNow } from '../connectors/log/kafka/topics.ts';
import type { LogRecord } from '../connectors/log/log.ts';
import { schemaType } from '../schemas/registry.ts';
import { unframe } from '../connectors/log/schemas/confluent-wire.ts';
import { useEngines } from './harness/use-engines.ts';
import { engineEnv, openStoreFor } from './harness/engines.ts';
import { startOwnKafka, type OwnKafka } from './harness/own-kafka.ts';
import { freePort, provision, startSluice, tempDir, waitFor, type RunningSluice } from './harness/server.ts';
import { allMessages, metricSum, pythonSend, scrape, type SendEvent } from './harness/inspect.ts';

useEngines('ops/cluster.example.yaml');

const USERS = Array.from({ length: 5 }, (_, i) => `stackcrash${i + 1}@sluice.test`);
const ROUNDS = Number(process.env.SLUICE_CRASH_ROUNDS ?? 3);
/** Rounds go on past ROUNDS, up to this many, while no kill has yet hit a transaction in flight. */
const MAX_ROUNDS = ROUNDS + 4;
/** Rounds of 20–60 s each, the drain and the checks; a failure to drain is reported before this. */
const TEST_TIMEOUT_MS = 1_800_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `promise`, or an error naming `what` (and the processes' logs) once `ms` have passed: a step that hangs fails the test with its name. */
async function within<T>(promise: Promise<T>, ms: number, what: string, logs: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms / 1000} s; the processes' logs:\n${logs()}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

/** The processes under test: SMTP ingress (+ IMAP/POP3 access) and the stages. */
interface Deployment {
  readonly smtpPort: number;
  /** The process that runs the stages (its /metrics shows their lag). */
  stages(): RunningSluice;
  killStages(): Promise<void>;
  restartStages(): Promise<void>;
  /** SIGTERM to both; returns the roles of those that had not exited a minute later (then killed). */
  stop(): Promise<string[]>;
  /** The processes' logs (warnings and errors), for a failure's report; killed stages' logs included (the last `killed` of them when given). */
  logs(killed?: number): string;
}

async function deploy(dataDir: string): Promise<Deployment> {
  const smtpPort = await freePort();
  const ingress = await startSluice({ dataDir, smtpPort, args: ['--roles', 'ingress,access'] });
  // info: the stages' start (group joins, transactions) shows in the logs printed on failure.
  const startStages = () => startSluice({ dataDir, args: ['--roles', 'stages'], env: { SLUICE_LOG_LEVEL: 'info' } });
  let stages = await startStages();
  const earlier: string[] = [];
  return {
    smtpPort,
    stages: () => stages,
    async killStages() {
      await stages.kill();
      earlier.push(stages.stderr());
    },
    async restartStages() {
      stages = await startStages();
    },
    logs: (killed = earlier.length) =>
      [
        `ingress,access:\n${brief(ingress.stderr())}`,
        ...earlier.map((e, i) => `stages #${i + 1} (killed):\n${brief(e)}`).slice(earlier.length - Math.min(killed, earlier.length)),
        `stages (last):\n${brief(stages.stderr())}`,
      ].join('\n'),
    async stop() {
      // SIGTERM; a process still running a minute later is killed (and named), so a shutdown
      // that hangs cannot hang the test.
      const hung: string[] = [];
      await Promise.all(
        [['ingress,access', ingress] as const, ['stages', stages] as const].map(async ([name, p]) => {
          const stopped = await Promise.race([p.stop().then(() => true), sleep(60_000).then(() => false)]);
          if (!stopped) {
            hung.push(name);
            await p.kill();
          }
        }),
      );
      return hung;
    },
  };
}

/** An error as pino wrote it, in one line: its message and those of the errors inside it (Kafka error names included), no stacks. */
function errorText(err: unknown, depth = 0): string {
  if (!err || typeof err !== 'object' || depth > 4) return '';
  const e = err as Record<string, unknown>;
  // A TypeError and the like: where it was thrown (a library's bug shows in which file).
  const at = !e.code && typeof e.stack === 'string' ? e.stack.split('\n').find((l) => l.trim().startsWith('at '))?.trim() : undefined;
  const own = [e.message, e.apiId, e.code !== undefined && `code ${String(e.code)}`, at].filter((x) => typeof x === 'string' && x).join(' ');
  const inner = ['aggregateErrors', 'errors', 'cause'].flatMap((k) => (Array.isArray(e[k]) ? (e[k] as unknown[]) : e[k] ? [e[k]] : [])).map((x) => errorText(x, depth + 1)).filter(Boolean);
  return inner.length ? `${own} (${[...new Set(inner)].join('; ')})` : own;
}

/** The pino lines of a process's stderr, one short line each (time, stage, message, error): the last 40. */
function brief(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim()).map((l) => {
    try {
      const j = JSON.parse(l) as { time?: number; stage?: string; msg?: string; err?: unknown };
      const err = j.err ? `: ${errorText(j.err)}` : '';
      return `  ${new Date(j.time ?? 0).toISOString().slice(11, 23)} ${j.stage ? `[${j.stage}] ` : ''}${j.msg ?? ''}${err}`.slice(0, 700);
    } catch {
      return `  ${l.slice(0, 700)}`;
    }
  });
  return lines.slice(-40).join('\n');
}

/** /metrics of a process, or '' while it cannot answer (e.g. its lag gauges fail with a broker down). */
const metricsOf = (port: number) => scrape(port).catch(() => '');

interface Reader {
  readonly log: KafkaLog;
  readonly admin: Admin;
  readonly dir: TopicDirectory;
  readonly fetch: FetchClient;
}

function openReader(brokers: readonly string[], clientId: string): Reader {
  const admin = new Admin({ clientId, bootstrapBrokers: [...brokers] });
  return {
    log: new KafkaLog({ brokers: [...brokers], clientId }),
    admin,
    dir: new TopicDirectory(admin),
    fetch: new FetchClient({ clientId, bootstrapBrokers: [...brokers], groupId: clientId }),
  };
}

const closeReader = (r: Reader) => Promise.all([r.log.close(), closeNow(r.fetch), r.admin.close().catch(() => undefined)]);

/**
 * Per topic and partition, the high-water mark and the last stable offset (KIP-98): a partition
 * whose LSO is below its high-water mark holds records of a transaction still open.
 */
async function stableOffsets(admin: Admin, topics: readonly string[], partitions: ReadonlyMap<string, number>): Promise<Map<string, { hw: number; lso: number }>> {
  const request = topics.map((name) => ({ name, partitions: Array.from({ length: partitions.get(name) ?? 0 }, (_, partitionIndex) => ({ partitionIndex, timestamp: ListOffsetTimestamps.LATEST })) }));
  const [hw, lso] = await Promise.all(
    [FetchIsolationLevels.READ_UNCOMMITTED, FetchIsolationLevels.READ_COMMITTED].map((isolationLevel) => admin.listOffsets({ topics: request, isolationLevel })),
  );
  const out = new Map<string, { hw: number; lso: number }>();
  for (const t of hw) for (const p of t.partitions) out.set(`${t.name}:${p.partitionIndex}`, { hw: Number(p.offset), lso: -1 });
  for (const t of lso) for (const p of t.partitions) out.get(`${t.name}:${p.partitionIndex}`)!.lso = Number(p.offset);
  return out;
}

/** Every record of every partition of `topic`, read_committed (KafkaLog.read) or read_uncommitted below the last stable offset. */
async function readAll(reader: Reader, topic: string, uncommitted: boolean): Promise<LogRecord[]> {
  const info = await reader.dir.get(topic, true);
  const out: LogRecord[] = [];
  // Below the LSO, so records of a transaction still open (not aborted yet) are not counted.
  const offsets = uncommitted ? await stableOffsets(reader.admin, [topic], new Map([[topic, info.partitions]])) : undefined;
  for (let partition = 0; partition < info.partitions; partition++) {
    if (!offsets) {
      out.push(...(await reader.log.read(topic, partition, 0, 10_000_000)));
      continue;
    }
    const lso = offsets.get(`${topic}:${partition}`)!.lso;
    for (let position = 0; position < lso; ) {
      const [fetched] = await fetchFrom(reader.fetch, info.leaders[partition], [{ topic, topicId: info.id, partition, offset: position }], { maxWaitMs: 0, readUncommitted: true });
      if (!fetched || fetched.errorCode !== 0) throw new Error(`read_uncommitted ${topic}[${partition}] at ${position}: error ${fetched?.errorCode}`);
      out.push(...fetched.records.filter((r) => r.offset < lso));
      if (fetched.next <= position) break;
      position = fetched.next;
    }
  }
  return out;
}

/** Records of aborted transactions in `topic`: in the read_uncommitted view at offsets read_committed skips. */
async function abortedRecords(reader: Reader, topic: string): Promise<LogRecord[]> {
  const committed = new Set((await readAll(reader, topic, false)).map((r) => `${r.partition}:${r.offset}`));
  return (await readAll(reader, topic, true)).filter((r) => !committed.has(`${r.partition}:${r.offset}`));
}

/**
 * SIGKILLs the stages the moment a transaction of theirs is seen open (a stage output's LSO below
 * its high-water mark: produced, not committed), so the kill most likely lands between produce
 * and commit; after `withinMs` without one, kills them anyway. Returns whether one was seen open.
 */
async function killInTransaction(d: Deployment, reader: Reader, outputs: readonly string[], withinMs: number): Promise<boolean> {
  const partitions = new Map<string, number>();
  for (const topic of outputs) partitions.set(topic, (await reader.dir.get(topic)).partitions);
  const deadline = Date.now() + withinMs;
  const none = () => new Map<string, { hw: number; lso: number }>();
  const expired = sleep(withinMs).then(none);
  let open = false;
  while (!open && Date.now() < deadline) {
    // One request per topic: while a broker is down, those of the topics it led fail (or hang
    // until the deadline) and the others still answer.
    const answers = await Promise.all(outputs.map((topic) => Promise.race([stableOffsets(reader.admin, [topic], partitions), expired]).catch(none)));
    open = answers.some((offsets) => [...offsets.values()].some((o) => o.lso >= 0 && o.lso < o.hw));
    if (!open && answers.every((a) => a.size === 0)) await sleep(50);
  }
  await d.killStages();
  return open;
}

describe('crash test on the real stack: 3 brokers, min.insync.replicas 2, kill -9 of a broker and of the stages under load', () => {
  let kafka: OwnKafka | undefined;
  let deployment: Deployment | undefined;
  let client: ChildProcess | undefined;
  beforeAll(async () => {
    kafka = await startOwnKafka(3);
    process.env.SLUICE_ENGINES_LOG_BROKERS = kafka.brokers.join(',');
  }, 300_000);
  afterAll(async () => {
    if (client && client.exitCode === null) client.kill('SIGKILL');
    if (deployment) console.log(`the processes' logs:\n${deployment.logs()}`);
    await deployment?.stop().catch(() => undefined);
    delete process.env.SLUICE_ENGINES_LOG_BROKERS;
    await kafka?.stop();
  }, 300_000);

  it('every acknowledged message is stored exactly once; aborted transactions leave no visible duplicate downstream', async () => {
    const testDeadline = Date.now() + TEST_TIMEOUT_MS;
    const own = kafka!;
    const dataDir = tempDir('sluice-stack-crash-');
    await provision(dataDir, 'sluice.test', USERS);
    deployment = await deploy(dataDir);
    const d = deployment;
    const prefix = engineEnv(dataDir).SLUICE_ENGINES_LOG_TOPIC_PREFIX ?? '';

    // The load runs until the rounds are over (then the client starts no new message): every
    // kill lands while the ingress is taking mail and the stages are working.
    const stopFile = join(dataDir, 'stop-sending');
    let acked = 0;
    const sending = pythonSend(
      { port: d.smtpPort, users: USERS.join(','), count: 1_000_000, concurrency: 2, 'per-conn': 20, 'thread-size': 4, size: 4000, deadline: 1_200, 'stop-file': stopFile },
      (e: SendEvent) => {
        if (e.ack) acked++;
      },
      (child) => (client = child),
    );
    sending.catch(() => undefined); // awaited below; if a round fails first, afterAll kills the client

    // Each round, a few seconds of load after the last: one broker and the stages get SIGKILL in
    // a random order a moment apart; the stages restart at once, the broker a few seconds later
    // (it is down while the stages come back and the ingress keeps producing).
    const rounds: string[] = [];
    // Stage outputs: every topic of the run but mail.received (the ingress produces it without transactions).
    const outputTopics = async (r: Reader) => (await r.log.topics()).map((t) => t.name).filter((n) => n.startsWith(prefix) && n !== `${prefix}mail.received`);
    const watcher = openReader(own.brokers, 'sluice-stack-crash-watch');
    try {
      // Whether a kill has hit a stage transaction between produce and commit yet: records in
      // the stage outputs' read_uncommitted view that read_committed skips.
      const abortedSoFar = async (): Promise<number> => {
        const probe = openReader(own.brokers, 'sluice-stack-crash-probe');
        try {
          let n = 0;
          for (const t of await outputTopics(probe)) n += (await abortedRecords(probe, t)).length;
          return n;
        } finally {
          await closeReader(probe);
        }
      };
      const noneAbortedYet = async (round: number) => (await within(abortedSoFar(), 180_000, `after round ${round - 1}: reading the stage outputs for aborted records`, () => d.logs(1))) === 0;
      for (let round = 1; round <= ROUNDS || (round <= MAX_ROUNDS && (await noneAbortedYet(round))); round++) {
        await sleep(between(2_000, 8_000));
        const broker = own.nodes[Math.floor(Math.random() * own.nodes.length)];
        const brokerFirst = Math.random() < 0.5;
        const gap = between(0, 1500);
        const t0 = Date.now();
        const killBroker = () => within(own.kill(broker), 30_000, `round ${round}: SIGKILL of broker ${broker}`, () => d.logs(2));
        const killStages = () => within(d.killStages(), 30_000, `round ${round}: SIGKILL of the stages`, () => d.logs(2));
        if (brokerFirst) await killBroker();
        else await killStages();
        await sleep(gap);
        if (brokerFirst) await killStages();
        else await killBroker();
        const ackedAtKill = acked;
        await sleep(between(100, 500));
        const brokerBack = sleep(between(2_000, 8_000)).then(() => own.restart());
        brokerBack.catch(() => undefined); // awaited below; not an unhandled rejection if the round fails before
        await d.restartStages();
        const restartedAt = Date.now();
        // Again while the new stages process works off the backlog the ingress kept taking: big
        // batches, one transaction after another, so this kill most likely lands between a
        // transaction's produce and its commit.
        await waitFor('stages at work', async () => metricSum(await metricsOf(d.stages().httpPort), 'sluice_stage_records_total') > 0, 180_000, 100).catch((err: Error) => {
          const child = d.stages().child;
          const state = child.exitCode === null && child.signalCode === null ? 'still running' : `exited (${child.exitCode ?? child.signalCode})`;
          throw new Error(`${err.message} (round ${round}; the stages process ${state}); the processes' logs:\n${d.logs(2)}`);
        });
        const atWorkS = (Date.now() - restartedAt) / 1000;
        const again = between(0, 1_000);
        await sleep(again);
        const killedInTransaction = await within(killInTransaction(d, watcher, await outputTopics(watcher), 10_000), 60_000, `round ${round}: SIGKILL of the restarted stages in a transaction`, () => d.logs(2));
        await d.restartStages();
        await within(brokerBack, 360_000, `round ${round}: broker ${broker} back (ops/stack up)`, () => d.logs(2));
        rounds.push(
          `round ${round}: ${brokerFirst ? `broker ${broker}, ${gap.toFixed(0)} ms later the stages` : `the stages, ${gap.toFixed(0)} ms later broker ${broker}`} ` +
            `(at ${ackedAtKill} acked), the restarted stages at work ${atWorkS.toFixed(1)} s after their start and killed again ${again.toFixed(0)} ms later, ${killedInTransaction ? 'with a transaction seen open' : 'no transaction seen open'}; all back after ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        );
      }
      await sleep(3_000);
    } finally {
      writeFileSync(stopFile, '');
      await closeReader(watcher);
    }
    const events = await within(sending, 240_000, `the SMTP client's end after ${rounds.length} rounds (it starts no new message once told to stop)`, () => d.logs(1));
    expect(rounds.length).toBeGreaterThanOrEqual(ROUNDS);
    expect(events.find((e) => e.done)).toBeDefined();

    // Drain: every stage caught up with what the ingress appended.
    let lastMetrics = '';
    await waitFor('stages drained', async () => {
      lastMetrics = await metricsOf(d.stages().httpPort);
      return metricSum(lastMetrics, 'sluice_consumer_lag_records') === 0 && metricSum(lastMetrics, 'sluice_topic_end_offset', { topic: 'mail.received' }) > 0;
    }, Math.min(600_000, testDeadline - Date.now() - 180_000), 500).catch((err: Error) => {
      const behind = lastMetrics.split('\n').filter((l) => l.startsWith('sluice_consumer_lag_records') && !l.endsWith(' 0'));
      throw new Error(`${err.message} after ${rounds.length} rounds; lag left: ${behind.join('; ') || '(no /metrics answer)'}; the processes' logs:\n${d.logs(2)}`);
    });
    const hungAtStop = await d.stop();
    if (hungAtStop.length > 0) console.warn(`SIGTERM did not stop ${hungAtStop.join(', ')} within a minute (killed); their logs:\n${d.logs()}`);
    deployment = undefined;

    // 1. Every 250'd message stored exactly once (Cassandra, through the store connector).
    const ackedIds = new Set(events.filter((e) => e.ack).map((e) => e.ack!));
    expect(ackedIds.size).toBeGreaterThan(100);
    const store = await openStoreFor(dataDir);
    let stored;
    try {
      stored = await allMessages(store, USERS);
    } finally {
      await store.close();
    }
    const copies = new Map<string, number>();
    for (const m of stored) copies.set(m.messageId ?? '', (copies.get(m.messageId ?? '') ?? 0) + 1);
    expect([...ackedIds].filter((id) => !copies.has(id))).toEqual([]); // none lost
    expect([...copies].filter(([, n]) => n > 1)).toEqual([]); // none doubled
    const storedWithout250 = [...copies.keys()].filter((id) => !ackedIds.has(id)).length;
    expect(stored.length).toBe(ackedIds.size + storedWithout250);

    // 2. The topics, read with a fresh client: replication 3, min.insync.replicas 2; downstream
    // topics read_committed hold each delivery once; read_uncommitted shows the aborted records.
    const check = openReader(own.brokers, 'sluice-stack-crash-check');
    try {
      const topics = (await check.log.topics()).filter((t) => t.name.startsWith(prefix));
      expect(topics.length).toBeGreaterThan(5);
      for (const t of topics) expect({ name: t.name, rf: t.replicationFactor, isr: t.minInsyncReplicas }).toEqual({ name: t.name, rf: 3, isr: 2 });

      const commandType = schemaType('MailboxCommand');
      const eventType = schemaType('MailboxEvent');
      // Raw Kafka bytes carry the registry's frame (engines.schemas kind registry): 0x00 + schema id.
      const commandId = (r: LogRecord) => (commandType.fromBuffer(unframe(r.value).payload) as { commandId: string }).commandId;
      const eventId = (r: LogRecord) => (eventType.fromBuffer(unframe(r.value).payload) as { eventId: string }).eventId;
      const idOf: Record<string, ((r: LogRecord) => string) | undefined> = { [`${prefix}mailbox.commands`]: commandId, [`${prefix}mailbox.events`]: eventId };
      const counts = (ids: string[]) => {
        const m = new Map<string, number>();
        for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
        return m;
      };

      const commands = (await readAll(check, `${prefix}mailbox.commands`, false)).map(commandId);
      const events2 = (await readAll(check, `${prefix}mailbox.events`, false)).map(eventId);
      expect([...counts(commands)].filter(([, n]) => n > 1)).toEqual([]);
      expect([...counts(events2)].filter(([, n]) => n > 1)).toEqual([]);
      expect(commands.length).toBe(stored.length); // one delivery command per stored message, nothing else happened
      expect(events2.length).toBe(stored.length);

      // What read_committed hid: records in the uncommitted view at offsets the committed view skips.
      let aborted = 0;
      const abortedDownstream: string[] = [];
      for (const topic of await outputTopics(check)) {
        for (const r of await abortedRecords(check, topic)) {
          aborted++;
          const id = idOf[topic];
          if (id) abortedDownstream.push(id(r));
        }
      }
      expect(aborted, 'no kill hit a stage transaction between produce and commit: the run shows nothing about aborted transactions').toBeGreaterThan(0);
      const commandCounts = counts(commands);
      const eventCounts = counts(events2);
      for (const id of abortedDownstream) expect(commandCounts.get(id) ?? eventCounts.get(id)).toBe(1);

      console.log(
        `stack crash test (ingress,access and stages processes apart): ${rounds.length} rounds, ` +
          `${rounds.length} broker and ${2 * rounds.length} stages kills; ${ackedIds.size} acknowledged, ${stored.length} stored once each (${storedWithout250} stored without a 250: reply lost), ` +
          `0 lost, 0 doubled; ${events.filter((e) => e.fail).length} attempts failed and were resent under a new Message-ID; ` +
          `${aborted} records of aborted transactions in the stage outputs (${abortedDownstream.length} in mailbox.commands/events), invisible to read_committed` +
          `${hungAtStop.length ? `; at the end SIGTERM did not stop ${hungAtStop.join(', ')} within a minute` : ''}\n  ` +
          rounds.join('\n  '),
      );
    } finally {
      await closeReader(check);
    }
  }, TEST_TIMEOUT_MS);
});
