/**
 * `sluice queue` and the outgoing queue's `/metrics`, end to end against `sluice serve`: mail to a
 * domain whose MX (an SMTP server in this test, on loopback, found through the test's DNS server)
 * answers `451` waits in the first retry topic; `queue list|show` and the `sluice_outbound_*`
 * metrics (scraped over HTTP) show it; once the remote accepts, `retry-now` delivers one message at once and
 * `drop` removes another (no DSN) and a third (`--bounce`: a DSN in the sender's INBOX); when the
 * originals fall due, the retry stage skips them — the remote gets the retried message once and
 * the dropped ones never. Second calls are no-ops (idempotent).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDns, type RunningDns } from './harness/dns.ts';
import { freePort, provision, sluice, startSluice, tempDir, waitFor, type RunningSluice } from './harness/server.ts';
import { allMessages, openStoreOf } from './harness/inspect.ts';

const DOMAIN = 'sluice.test';
const ALICE = `alice@${DOMAIN}`;
const PASSWORD = 'secret';
const REMOTE = 'down.example';
/** The first retry waits this long: time for the checks below while the originals are held. */
const FIRST_RETRY_S = 60;

interface Listed {
  id: string;
  sender: string;
  domain: string;
  recipients: string[];
  attempts: number;
  nextAttemptAt: number;
  stage: string;
  lastError: string;
  ageSeconds: number;
}

describe('sluice queue and the outgoing queue metrics', () => {
  let dataDir: string;
  let dns: RunningDns;
  let server: RunningSluice;
  let remotePort: number;
  let remote: SMTPServer;
  /** The remote answers RCPT TO with 451 until this is set (RFC 5321 §4.2.3: a temporary failure). */
  let accepting = false;
  const received: { to: string[]; subject: string }[] = [];
  const ids: Record<string, string> = {};

  const queue = async (...args: string[]) => sluice(['queue', ...args], { dataDir });
  const listed = async (): Promise<Listed[]> => {
    const r = await queue('list', '--json');
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Listed[];
  };
  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
  const sample = (text: string, name: string, labels = ''): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  beforeAll(async () => {
    dataDir = tempDir();
    await provision(dataDir, DOMAIN, [ALICE], PASSWORD);
    remotePort = await freePort();
    remote = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        if (accepting) return callback();
        callback(Object.assign(new Error('4.3.2 not now, try later'), { responseCode: 451 }));
      },
      onData(stream, session, callback) {
        let data = '';
        stream.on('data', (d: Buffer) => (data += d.toString('latin1')));
        stream.on('end', () => {
          received.push({ to: session.envelope.rcptTo.map((r) => r.address), subject: /^Subject: (.*)$/m.exec(data)?.[1]?.trim() ?? '' });
          callback();
        });
      },
    });
    await new Promise<void>((r) => remote.listen(remotePort, '127.0.0.1', () => r()));
    dns = await startDns({ [REMOTE]: { MX: [{ exchange: `mx.${REMOTE}`, priority: 10 }] }, [`mx.${REMOTE}`]: { A: ['127.0.0.1'] } });
    server = await startSluice({
      dataDir,
      env: { SLUICE_DNS_SERVERS: dns.address, SLUICE_OUTBOUND_PORT: String(remotePort), SLUICE_OUTBOUND_RETRY_SCHEDULE: `${FIRST_RETRY_S}s,1h`, SLUICE_LOG_LEVEL: 'info' },
    });
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.submissionPort,
      requireTLS: true,
      auth: { user: ALICE, pass: PASSWORD },
      tls: { ca: readFileSync(join(dataDir, 'tls', 'cert.pem')), servername: 'localhost', rejectUnauthorized: false },
    });
    for (const name of ['retried', 'dropped', 'bounced']) {
      const info = await transport.sendMail({ from: ALICE, to: `${name}@${REMOTE}`, subject: `queue-${name}`, text: `for ${name}` });
      ids[name] = `${/queued as (\S+)/.exec(info.response)![1]}:${REMOTE}`;
    }
    transport.close();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await new Promise<void>((r) => (remote ? remote.close(() => r()) : r()));
    await dns?.close();
  });

  it('lists the deferred messages with their attempts, next attempt and last error', async () => {
    const entries = await waitFor('three messages in retry-1', async () => {
      const l = await listed();
      return l.length === 3 && l.every((e) => e.stage === 'retry-1') && l;
    }, 60_000, 500);
    expect(entries.map((e) => e.id).sort()).toEqual(Object.values(ids).sort());
    for (const e of entries) {
      expect(e).toMatchObject({ sender: ALICE, domain: REMOTE, attempts: 1 });
      expect(e.recipients).toHaveLength(1);
      expect(e.nextAttemptAt).toBeGreaterThan(Date.now());
      expect(e.lastError).toMatch(/451|4\.3\.2/);
    }
    const text = await queue('list');
    expect(text.stdout).toMatch(/^ID\tSENDER\tDOMAIN\tRECIPIENTS\tATTEMPTS\tNEXT ATTEMPT\tAGE\tLAST ERROR$/m);
    expect(text.stdout).toContain('3 queued message(s), 3 recipient(s)');
  }, 90_000);

  it('shows one message by a prefix of its id, with its history', async () => {
    const ingressId = ids.retried.split(':')[0];
    const r = await queue('show', ingressId);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`id: ${ids.retried}`);
    expect(r.stdout).toContain(`recipients: retried@${REMOTE}`);
    expect(r.stdout).toMatch(/attempt 1 {2}retried@down\.example {2}deferred/);
    const missing = await queue('show', 'no-such-id');
    expect(missing.code).toBe(1);
    expect((await queue('retry-now')).code).toBe(2);
  }, 30_000);

  it('reports queue depth, oldest age and per-domain failures on /metrics', async () => {
    const text = await metrics();
    expect(sample(text, 'sluice_outbound_queue_messages', 'stage="retry-1"')).toBe(3);
    expect(sample(text, 'sluice_outbound_queue_recipients', 'stage="retry-1"')).toBe(3);
    expect(sample(text, 'sluice_outbound_queue_messages', 'stage="deliver"')).toBe(0);
    expect(sample(text, 'sluice_outbound_queue_oldest_seconds')).toBeGreaterThan(0);
    expect(sample(text, 'sluice_outbound_delivery_failures_total', `domain="${REMOTE}",status="deferred"`)).toBe(3);
  }, 30_000);

  it('retry-now delivers at once; drop removes, with a DSN only when asked; both idempotent', async () => {
    const dropped = await queue('drop', ids.dropped);
    expect(dropped.code, dropped.stderr).toBe(0);
    expect(dropped.stdout).toContain('the sender was not told');
    const bounced = await queue('drop', ids.bounced, '--bounce');
    expect(bounced.code, bounced.stderr).toBe(0);
    expect(bounced.stdout).toContain('failure DSN');
    const dropAgain = await queue('drop', ids.dropped);
    expect(dropAgain.code, dropAgain.stderr).toBe(0);
    expect(dropAgain.stdout).toContain('already dropped');

    accepting = true;

    const retried = await queue('retry-now', ids.retried);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain('due now');
    await waitFor('the retried message at the remote', async () => received.some((m) => m.subject === 'queue-retried'), 30_000, 200);
    const again = await queue('retry-now', ids.retried);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already retried|nothing to do/);

    expect(await listed()).toEqual([]);
    const text = await metrics();
    expect(sample(text, 'sluice_outbound_queue_messages', 'stage="retry-1"')).toBe(0);
    expect(sample(text, 'sluice_outbound_queue_oldest_seconds')).toBe(0);
    expect(sample(text, 'sluice_outbound_delivered_total')).toBe(1);
    const show = await queue('show', ids.dropped);
    expect(show.stdout).toContain('not queued');
    expect(show.stdout).toMatch(/drop by \S+ \(no DSN\)/);
    expect(show.stdout).toMatch(/dropped@down\.example {2}dropped/);

    // The DSN of the bounced one reaches the sender's INBOX through the receiving flow.
    await waitFor('a DSN in alice\'s INBOX', async () => {
      const store = openStoreOf(dataDir);
      try {
        return (await allMessages(store, [ALICE])).some((m) => m.mailbox === 'INBOX');
      } finally {
        await store.close();
      }
    }, 30_000, 300);
  }, 90_000);

  it('when the originals fall due, the retry stage skips them: one delivery in all, none of the dropped', async () => {
    // The originals were due FIRST_RETRY_S after their failed attempt; wait until the stage passed them.
    await waitFor('the retry stage skipped the three originals', async () => (server.stderr().match(/queue: skipped a record the operator cancelled/g) ?? []).length >= 3, (FIRST_RETRY_S + 30) * 1000, 500);
    await new Promise((r) => setTimeout(r, 1000));
    expect(received.map((m) => m.subject)).toEqual(['queue-retried']);
    expect(await listed()).toEqual([]);
  }, (FIRST_RETRY_S + 40) * 1000);
});
