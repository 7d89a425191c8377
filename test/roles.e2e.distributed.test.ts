/**
 * The roles apart on the engines `ops/stack up` starts: three `sluice serve` child processes with
 * one cluster config (ops/cluster.example.yaml: Kafka, Cassandra, OpenSearch, S3) and one data
 * folder, as on one machine — `--roles ingress`, `--roles stages`, `--roles access`. Mail sent over
 * SMTP to the ingress process goes through Kafka to the stages process and is then visible and
 * searchable over IMAP on the access process; an IMAP IDLE session there wakes on it (the access
 * process reads mailbox.events itself, connectors/push/log-feed.ts); STORE and EXPUNGE go through
 * mailbox.commands to the stages process and are answered once the store stage applied them. The
 * run has a keyspace, index, bucket and topic prefix of its own (harness/engines.ts), dropped at
 * the end. A missing engine fails these tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { sluice, startSluice, tempDir, waitFor, type RunningSluice } from './harness/server.ts';
import { imapSession, metricSum, scrape } from './harness/inspect.ts';
import { configFor, dropNamespaces, namespaceEnv } from './harness/engines.ts';

const CLUSTER = 'ops/cluster.example.yaml';
const DOMAIN = 'roles.test';
const ALICE = `alice@${DOMAIN}`;
const ROLES = ['ingress', 'stages', 'access'] as const;
/** The access service gives up on an unanswered change after 30 s; an answer well within that came from the stages process. */
const ANSWER_MS = 20_000;

describe('sluice serve --roles ingress | stages | access: three processes on Kafka, Cassandra, OpenSearch, S3', () => {
  const dataDir = tempDir('sluice-roles-');
  const env = namespaceEnv(dataDir, CLUSTER);
  const cli = (args: string[], stdin?: string) => sluice([...args, '--config', CLUSTER], { dataDir, env, stdin });
  const servers = new Map<(typeof ROLES)[number], RunningSluice>();
  const server = (role: (typeof ROLES)[number]): RunningSluice => {
    const s = servers.get(role);
    if (!s) throw new Error(`the ${role} process did not start`);
    return s;
  };
  let imap: ImapFlow | undefined;

  beforeAll(async () => {
    expect(configFor(dataDir, CLUSTER).engines.log.kind).toBe('kafka');
    for (const args of [['domain', 'add', DOMAIN], ['user', 'add', ALICE, '--password-stdin']]) {
      const r = await cli(args, 'secret\n');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    // All three at once, as an operator's service manager would start them.
    const started = await Promise.allSettled(ROLES.map((role) => startSluice({ dataDir, env, args: ['--config', CLUSTER, '--roles', role] })));
    started.forEach((s, i) => s.status === 'fulfilled' && servers.set(ROLES[i], s.value));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  }, 400_000);

  afterAll(async () => {
    await imap?.logout().catch(() => undefined);
    await Promise.all([...servers.values()].map((s) => s.stop()));
    await dropNamespaces();
  }, 180_000);

  it('each process runs its roles only: its listeners on the ready line, HTTP in every one', async () => {
    expect(server('ingress').roles).toEqual(['ingress']);
    expect(Object.keys(server('ingress').listeners)).toEqual(['smtp', 'submission', 'submissions', 'http']);
    expect(server('stages').roles).toEqual(['stages']);
    expect(Object.keys(server('stages').listeners)).toEqual(['http']);
    expect(server('access').roles).toEqual(['access']);
    expect(Object.keys(server('access').listeners)).toEqual(['imap', 'imaps', 'pop3', 'pop3s', 'http']);
    // Lag is read from the log, so every process reports it (the groups' lag, cluster-wide) and
    // the engines' health; only the stages process owns partitions of the stages' inputs.
    expect(await scrape(server('stages').httpPort)).toContain('sluice_stage_owned_partitions{stage="store"} 4');
    for (const role of ['ingress', 'stages', 'access'] as const) {
      const text = await scrape(server(role).httpPort);
      expect(text).toContain('sluice_consumer_lag_records{');
      expect(text).toContain('sluice_engine_up{engine="store",kind="cassandra"} 1');
      if (role !== 'stages') expect(text).not.toContain('sluice_stage_owned_partitions{');
    }
    // One data folder, three processes: the folder is marked served by the stages process only.
    expect(Number(readFileSync(join(dataDir, 'serve.pid'), 'utf8'))).toBe(server('stages').child.pid);
  });

  it('IMAP IDLE on the access process wakes on mail sent to the ingress process; it is visible and searchable there', async () => {
    imap = new ImapFlow({
      host: '127.0.0.1',
      port: server('access').imapsPort,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: ALICE, pass: 'secret' },
      logger: false,
      // IDLE as soon as the connection is free (the default waits 15 s).
      autoIdleDelay: 300,
    });
    const client = imap;
    await client.connect();
    // No mailbox lock held: imapflow IDLEs on an open mailbox while the connection is free.
    await client.mailboxOpen('INBOX');
    const counts: number[] = [];
    const wakes: (() => void)[] = [];
    client.on('exists', (data: { count: number }) => {
      counts.push(data.count);
      wakes.shift()?.();
    });
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server('ingress').smtpPort, secure: false, ignoreTLS: true });
    try {
      // Two messages, one after the other: the first also warms the stages up (connections, prepared statements).
      for (const [i, word] of ['rolesapartword', 'secondmessageword'].entries()) {
        // In IDLE before the mail is sent: the EXISTS can then only come from a push of the
        // store stage's event (the server re-reads the mailbox when IDLE starts, never on a timer).
        await waitFor('IDLE', async () => client.idling, 10_000, 50);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        expect(client.idling).toBe(true);
        const woken = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`IDLE was not woken for message ${i + 1}`)), 90_000);
          wakes.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        const sent = Date.now();
        await transport.sendMail({ from: 'someone@example.org', to: ALICE, subject: `across processes ${i + 1}`, text: `a ${word} in the body` });
        await woken;
        console.log(`roles apart: message ${i + 1}, SMTP 250 at ingress → IDLE EXISTS at access in ${Date.now() - sent} ms`);
      }
    } finally {
      transport.close();
    }
    expect(counts).toEqual([1, 2]);
    expect(metricSum(await scrape(server('stages').httpPort), 'sluice_stage_records_total', { stage: 'store', outcome: 'ok' })).toBeGreaterThanOrEqual(1);

    // Searchable (OpenSearch) over IMAP on the access process, by another client (Python's imaplib).
    const found = await waitFor('found by SEARCH TEXT', async () => {
      const s = await imapSession(server('access').imapPort, ALICE, ['examine:INBOX', 'uidsearch:TEXT rolesapartword', 'uidsearch:TEXT nosuchwordanywhere']);
      return s.steps[1].data[0] === '1' ? s : undefined;
    }, 60_000, 1000);
    expect(found.login).toBe('OK');
    expect(found.steps[0]).toMatchObject({ typ: 'OK', data: ['2'] });
    expect(found.steps[2]).toMatchObject({ typ: 'OK', data: [''] });
  }, 180_000);

  it('STORE +FLAGS and EXPUNGE on the access process are answered by the store stage of the stages process', async () => {
    if (!imap) throw new Error('no IMAP session (the previous test failed)');
    const lock = await imap.getMailboxLock('INBOX');
    try {
      let started = Date.now();
      expect(await imap.messageFlagsAdd('1', ['\\Flagged'])).toBe(true);
      const storeMs = Date.now() - started;
      const [message] = await Promise.all([imap.fetchOne('1', { flags: true, uid: true })]);
      expect(message && [...(message.flags ?? [])]).toContain('\\Flagged');
      started = Date.now();
      expect(await imap.messageDelete('1:*')).toBe(true); // STORE +FLAGS \Deleted, then (UID) EXPUNGE
      const expungeMs = Date.now() - started;
      console.log(`roles apart: STORE answered in ${storeMs} ms, STORE \\Deleted + EXPUNGE in ${expungeMs} ms`);
      expect(storeMs).toBeLessThan(ANSWER_MS);
      expect(expungeMs).toBeLessThan(ANSWER_MS);
    } finally {
      lock.release();
    }
    const inbox = await imap.status('INBOX', { messages: true });
    expect(inbox && inbox.messages).toBe(0);
    // Another session sees it too (the store in Cassandra, not this session's view).
    const other = await imapSession(server('access').imapPort, ALICE, ['examine:INBOX']);
    expect(other.steps[0]).toMatchObject({ typ: 'OK', data: ['0'] });
  }, 120_000);
});
