/**
 * IMAP end to end against a `sluice serve` child process, with clients nobody on the team
 * wrote: Python's imaplib (STARTTLS), curl's IMAP URLs, imapflow (implicit TLS, IDLE) and
 * mbsync (Debian's isync) syncing a 1,000-message mailbox down to a Maildir and flag changes
 * back up, twice, with nothing lost or duplicated. Mail arrives over SMTP (smtplib).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { provision, startSluice, tempDir, waitFor, type RunningSluice } from './harness/server.ts';
import { imapSession, openStoreOf, pythonSend } from './harness/inspect.ts';

const run = promisify(execFile);
const ALICE = 'alice@sluice.test';
const BOB = 'bob@sluice.test';
const CAROL = 'carol@sluice.test';
const COUNT = 1000;

const imaplib = imapSession;

async function inboxCount(dataDir: string, user: string): Promise<number> {
  const store = openStoreOf(dataDir);
  try {
    return (await store.mailbox(user, 'INBOX'))?.messages ?? 0;
  } finally {
    await store.close();
  }
}

function mbsyncConfig(dir: string, port: number, certFile: string): string {
  return [
    'IMAPAccount sluice',
    'Host localhost', // the self-signed certificate names localhost
    `Port ${port}`,
    `User ${ALICE}`,
    'Pass secret',
    'SSLType IMAPS',
    `CertificateFile ${certFile}`,
    '',
    'IMAPStore remote',
    'Account sluice',
    '',
    'MaildirStore local',
    `Path ${dir}/mail/`,
    `Inbox ${dir}/mail/INBOX`,
    '',
    'Channel inbox',
    'Far :remote:INBOX',
    'Near :local:INBOX',
    'Create Near',
    'Sync All',
    'Expunge None',
    `SyncState ${dir}/state/`,
    '',
  ].join('\n');
}

function maildirFiles(dir: string): string[] {
  return ['new', 'cur'].flatMap((sub) => {
    const at = path.join(dir, sub);
    return fs.existsSync(at) ? fs.readdirSync(at).map((f) => path.join(at, f)) : [];
  });
}

async function mbsync(config: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('mbsync', ['-c', config, '-a'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`mbsync exited ${code}:\n${out}`))));
  });
}

describe('IMAP with real clients', () => {
  let dataDir: string;
  let server: RunningSluice;

  beforeAll(async () => {
    dataDir = tempDir();
    await provision(dataDir, 'sluice.test', [ALICE, BOB, CAROL]);
    server = await startSluice({ dataDir });
    const events = await pythonSend({ port: server.smtpPort, users: ALICE, count: COUNT, concurrency: 4, 'per-conn': 50, 'thread-size': 5, size: 1500 });
    expect(events.filter((e) => e.ack).length).toBe(COUNT);
    await pythonSend({ port: server.smtpPort, users: BOB, count: 5, concurrency: 1, 'per-conn': 5, 'thread-size': 1, size: 500 });
    await waitFor('all stored', async () => (await inboxCount(dataDir, ALICE)) === COUNT && (await inboxCount(dataDir, BOB)) === 5, 120_000);
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('Python imaplib: STARTTLS, LOGIN, SELECT, FETCH, SEARCH, STORE, CREATE, COPY, STATUS', async () => {
    const r = await imaplib(server.imapPort, BOB, [
      'select:INBOX',
      'fetch:1:(FLAGS ENVELOPE)',
      'uidsearch:ALL',
      'store:1:+FLAGS:(\\Flagged)',
      'fetch:1:(FLAGS)',
      'create:Py',
      'copy:1:2:Py',
      'status:Py:(MESSAGES UIDNEXT)',
      'search:FLAGGED',
    ]);
    expect(r.capabilities_before_tls).toContain('LOGINDISABLED');
    expect(r.capabilities_before_tls).toContain('STARTTLS');
    expect(r.login).toBe('OK');
    const step = (name: string) => r.steps.find((s) => s.step.startsWith(name))!;
    expect(step('select').typ).toBe('OK');
    expect(step('select').data).toEqual(['5']);
    expect(JSON.stringify(step('fetch:1:(FLAGS ENVELOPE)').data)).toContain('ENVELOPE');
    expect(step('uidsearch').data).toEqual(['1 2 3 4 5']);
    expect(JSON.stringify(step('fetch:1:(FLAGS)').data)).toContain('\\\\Flagged');
    expect(step('create').typ).toBe('OK');
    expect(step('copy').typ).toBe('OK');
    expect(step('status').data[0]).toMatch(/MESSAGES 2 UIDNEXT 3/);
    expect(step('search:FLAGGED').data).toEqual(['1']);
  });

  it('curl: IMAP URLs fetch a message by UID, list mailboxes and search', async () => {
    const base = `imap://127.0.0.1:${server.imapPort}`;
    const auth = ['--ssl-reqd', '-k', '-s', '-u', `${BOB}:secret`];
    const message = await run('curl', [...auth, `${base}/INBOX;UID=2`]);
    expect(message.stdout).toMatch(/^Subject: /m);
    const list = await run('curl', [...auth, `${base}/`]);
    expect(list.stdout).toMatch(/\* LIST \([^)]*\) "\/" "?INBOX"?/);
    expect(list.stdout).toContain('Py');
    const search = await run('curl', [...auth, `${base}/INBOX?FLAGGED`]);
    expect(search.stdout.trim()).toBe('* SEARCH 1');
  });

  it('imapflow: implicit TLS, IDLE woken by new mail, FETCH, MOVE', async () => {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: server.imapsPort,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: CAROL, pass: 'secret' },
      logger: false,
    });
    await client.connect();
    try {
      // No mailbox lock held: imapflow IDLEs on an open mailbox only while the connection is free.
      await client.mailboxOpen('INBOX');
      const exists = new Promise<number>((resolve) => client.on('exists', (data: { count: number }) => resolve(data.count)));
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true });
      await new Promise((resolve) => setTimeout(resolve, 500));
      await transport.sendMail({ from: 'someone@example.org', to: CAROL, subject: 'wake up', text: 'new mail while idling' });
      expect(await exists).toBe(1);
      const lock = await client.getMailboxLock('INBOX');
      try {
        const fetched = [];
        for await (const msg of client.fetch('1:*', { envelope: true, flags: true, uid: true })) fetched.push(msg);
        expect(fetched.map((m) => m.envelope?.subject)).toEqual(['wake up']);
        const moved = await client.messageMove('1', 'Archive');
        expect(moved && moved.uidMap?.size).toBe(1);
      } finally {
        lock.release();
      }
      const archive = await client.status('Archive', { messages: true });
      expect(archive && archive.messages).toBe(1);
      const inbox = await client.status('INBOX', { messages: true });
      expect(inbox && inbox.messages).toBe(0);
    } finally {
      await client.logout();
    }
  });

  it('mbsync: 1,000 messages down to a Maildir and flag changes back up, twice, nothing lost or doubled', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'state'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'mail'), { recursive: true });
    const config = path.join(dir, 'mbsyncrc');
    fs.writeFileSync(config, mbsyncConfig(dir, server.imapsPort, path.join(dataDir, 'tls', 'cert.pem')));
    const inbox = path.join(dir, 'mail', 'INBOX');

    for (let round = 0; round < 2; round++) {
      await mbsync(config);
      const files = maildirFiles(inbox);
      expect(files.length).toBe(COUNT);
      // Mark 100 messages of this round flagged and seen locally; the next sync pushes them up.
      const chosen = files.filter((f) => !/:2,[A-Z]*F/.test(f)).slice(0, 100);
      for (const file of chosen) {
        const [base, flags = ''] = path.basename(file).split(':2,');
        const target = path.join(inbox, 'cur', `${base}:2,${[...new Set((flags + 'FS').split(''))].sort().join('')}`);
        fs.renameSync(file, target);
      }
      await mbsync(config);
      expect(maildirFiles(inbox).length).toBe(COUNT);
      const r = await imaplib(server.imapPort, ALICE, ['examine:INBOX', 'search:FLAGGED', 'search:ALL']);
      const flagged = (r.steps[1].data[0] as string).trim().split(/\s+/).filter(Boolean);
      expect(flagged.length).toBe(100 * (round + 1));
      expect((r.steps[2].data[0] as string).trim().split(/\s+/).length).toBe(COUNT);
    }
    // A change made on the server comes down too.
    await imaplib(server.imapPort, ALICE, ['select:INBOX', 'store:1:1000:+FLAGS:(\\Answered)']);
    await mbsync(config);
    const files = maildirFiles(inbox);
    expect(files.length).toBe(COUNT);
    expect(files.every((f) => /:2,[A-Z]*R/.test(f))).toBe(true);
    expect(await inboxCount(dataDir, ALICE)).toBe(COUNT);
  }, 300_000);
});
