/**
 * The submission listeners over real sockets: a raw wire client for the refusals (RFC 4954,
 * RFC 3207, RFC 6409) and nodemailer, a client nobody here wrote, for submission over STARTTLS
 * and implicit TLS. Real embedded log, blob store, mail store and password authenticator.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { FsBlobStore } from '../connectors/blob/fs.ts';
import { SqliteMailStore } from '../connectors/store/sqlite.ts';
import { PasswordAuthenticator } from '../access/auth/password-authenticator.ts';
import { LoginLimiter } from '../access/auth/login-limiter.ts';
import { hashPassword } from '../ops/password.ts';
import { schemaType } from '../schemas/registry.ts';
import type { MailOutbound, MailReceived } from '../schemas/types.ts';
import { ensureTlsCertificate } from './tls.ts';
import { RawSmtpClient, type Reply } from './smtp-test-kit.ts';
import { createSubmissionServer, type SubmissionServer } from './submission.ts';

const DOMAIN = 'example.test';
const PASSWORD = 'a-good-password';
const receivedType = schemaType('MailReceived');
const outboundType = schemaType('MailOutbound');

let dir: string;
let log: EmbeddedLog;
let blobs: FsBlobStore;
let store: SqliteMailStore;
let server: SubmissionServer;
let port: number;
let tlsPort: number;
let ca: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-sub-'));
  log = new EmbeddedLog({ path: path.join(dir, 'log.sqlite'), lingerMs: 1 });
  blobs = new FsBlobStore({ dir: path.join(dir, 'blobs') });
  store = new SqliteMailStore({ path: path.join(dir, 'store.sqlite') });
  await log.ensureTopics([{ name: 'mail.received', partitions: 2 }, { name: 'mail.outbound', partitions: 2 }]);
  await store.addDomain(DOMAIN);
  const hash = await hashPassword(PASSWORD);
  for (const u of ['alice', 'bob']) await store.addUser(`${u}@${DOMAIN}`, hash);
  const tls = ensureTlsCertificate(dir, 'localhost');
  ca = tls.cert;
  server = createSubmissionServer({
    log,
    blobs,
    store,
    // No growing delays in this file: its failed logins are deliberate.
    authenticator: new PasswordAuthenticator({ store, logger: pino({ level: 'silent' }), limiter: new LoginLimiter({ freeFailures: 1000 }) }),
    logger: pino({ level: 'silent' }),
    hostname: 'submit.example.test',
    tls,
    maxSize: 64 * 1024,
    maxRecipients: 3,
    closeTimeoutMs: 200,
    encodeReceived: (v) => receivedType.toBuffer(v),
    encodeOutbound: (v) => outboundType.toBuffer(v),
  });
  port = (await server.listen(0, '127.0.0.1', false)).port;
  tlsPort = (await server.listen(0, '127.0.0.1', true)).port;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await Promise.allSettled([log?.close(), blobs?.close(), store?.close()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function all<T>(topic: string, decode: (b: Buffer) => T): Promise<T[]> {
  const out: T[] = [];
  for (let p = 0; p < 2; p++) for (const r of await log.read(topic, p, 0, 10_000)) out.push(decode(r.value));
  return out;
}
const receivedRecords = () => all('mail.received', (b) => receivedType.fromBuffer(b) as MailReceived);
const outboundRecords = () => all('mail.outbound', (b) => outboundType.fromBuffer(b) as MailOutbound);

function plain(user: string, password: string): string {
  return Buffer.from(`\0${user}\0${password}`).toString('base64');
}

/** Connects, EHLO, STARTTLS, EHLO again, AUTH PLAIN as alice. */
async function authenticated(user = `alice@${DOMAIN}`): Promise<RawSmtpClient> {
  const client = await RawSmtpClient.connect(port);
  expect((await client.read()).code).toBe(220);
  expect((await client.command('EHLO client.example')).code).toBe(250);
  expect((await client.command('STARTTLS')).code).toBe(220);
  await client.startTls(ca);
  expect((await client.command('EHLO client.example')).code).toBe(250);
  expect((await client.command(`AUTH PLAIN ${plain(user, PASSWORD)}`)).code).toBe(235);
  return client;
}

function message(from: string, to: string, subject: string): string {
  return [`From: <${from}>`, `To: <${to}>`, `Subject: ${subject}`, `Message-ID: <${subject.replace(/\W/g, '')}@example.test>`, '', 'Hello.', ''].join('\r\n');
}

function expectReply(reply: Reply, code: number, enhanced: string): void {
  expect(reply.code, reply.lines.join(' | ')).toBe(code);
  expect(reply.text.startsWith(`${enhanced} `), reply.text).toBe(true);
}

describe('submission: greeting', () => {
  it("greets at once, without smtp-server's 100 ms pause for early talkers (an MX's check)", async () => {
    // The pause held every submission connection, so every message a client sends on a new
    // one, at least 100 ms. Without it a greeting takes a few ms: the median of five connections
    // stays under the pause even on a busy machine.
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const client = await RawSmtpClient.connect(port);
      expect((await client.read()).code).toBe(220);
      waits.push(performance.now() - started);
      client.close();
    }
    waits.sort((a, b) => a - b);
    expect(waits[2], waits.map((w) => w.toFixed(1)).join(', ')).toBeLessThan(100);
  });
});

describe('submission: refusals', () => {
  it('offers STARTTLS and refuses AUTH before it with 538 5.7.11 (RFC 4954 §6, RFC 3207 §4)', async () => {
    const client = await RawSmtpClient.connect(port);
    await client.read();
    const ehlo = await client.command('EHLO client.example');
    expect(ehlo.lines.map((l) => l.slice(4))).toContain('STARTTLS');
    expectReply(await client.command(`AUTH PLAIN ${plain(`alice@${DOMAIN}`, PASSWORD)}`), 538, '5.7.11');
    // RFC 4954 §6: no MAIL before AUTH.
    expectReply(await client.command(`MAIL FROM:<alice@${DOMAIN}>`), 530, '5.7.0');
    client.close();
  });

  it('after STARTTLS offers AUTH PLAIN LOGIN; a wrong password gets 535 5.7.8; MAIL before AUTH 530 5.7.0', async () => {
    const client = await RawSmtpClient.connect(port);
    await client.read();
    await client.command('EHLO client.example');
    await client.command('STARTTLS');
    await client.startTls(ca);
    const ehlo = await client.command('EHLO client.example');
    expect(ehlo.lines.map((l) => l.slice(4))).toContain('AUTH PLAIN LOGIN');
    expect(ehlo.lines.map((l) => l.slice(4))).toContain('SIZE 65536');
    expectReply(await client.command(`MAIL FROM:<alice@${DOMAIN}>`), 530, '5.7.0');
    expectReply(await client.command(`AUTH PLAIN ${plain(`alice@${DOMAIN}`, 'wrong')}`), 535, '5.7.8');
    expectReply(await client.command(`AUTH PLAIN ${plain(`nobody@${DOMAIN}`, PASSWORD)}`), 535, '5.7.8');
    // AUTH LOGIN (draft-murchison-sasl-login): user name and password as base64 continuations.
    expect((await client.command('AUTH LOGIN')).code).toBe(334);
    expect((await client.command(Buffer.from(`bob@${DOMAIN}`).toString('base64'))).code).toBe(334);
    expect((await client.command(Buffer.from(PASSWORD).toString('base64'))).code).toBe(235);
    client.close();
  });

  it('refuses a MAIL FROM and a From: that are not the user\'s with 553 5.7.1, and stores nothing', async () => {
    const before = (await receivedRecords()).length;
    const client = await authenticated();
    expectReply(await client.command(`MAIL FROM:<bob@${DOMAIN}>`), 553, '5.7.1');
    expectReply(await client.command('MAIL FROM:<someone@elsewhere.example>'), 553, '5.7.1');
    expect((await client.command(`MAIL FROM:<Alice@${DOMAIN.toUpperCase()}>`)).code).toBe(250);
    expect((await client.command(`RCPT TO:<bob@${DOMAIN}>`)).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    client.write(`${message(`bob@${DOMAIN}`, `bob@${DOMAIN}`, 'forged')}.\r\n`);
    expectReply(await client.read(), 553, '5.7.1');
    client.close();
    expect((await receivedRecords()).length).toBe(before);
  });

  it('refuses unknown local users (550 5.1.1), more than the recipient limit (452), an oversized message (552 5.3.4)', async () => {
    const client = await authenticated();
    expect((await client.command(`MAIL FROM:<alice@${DOMAIN}>`)).code).toBe(250);
    expectReply(await client.command(`RCPT TO:<nobody@${DOMAIN}>`), 550, '5.1.1');
    for (const r of ['a@r1.example', 'b@r2.example', 'c@r3.example']) expect((await client.command(`RCPT TO:<${r}>`)).code).toBe(250);
    // RFC 5321 §4.5.3.1.10: too many recipients is a temporary 452.
    expect((await client.command('RCPT TO:<d@r4.example>')).code).toBe(452);
    expect((await client.command('DATA')).code).toBe(354);
    client.write(`${message(`alice@${DOMAIN}`, 'a@r1.example', 'big')}${'x'.repeat(100)}\r\n`.repeat(1000) + '.\r\n');
    expectReply(await client.read(), 552, '5.3.4');
    client.close();
  });
});

describe('submission: routing', () => {
  it('puts the Sent copy and local recipients on mail.received and remote ones, by domain, on mail.outbound', async () => {
    const client = await authenticated();
    expect((await client.command(`MAIL FROM:<alice@${DOMAIN}>`)).code).toBe(250);
    for (const r of [`alice@${DOMAIN}`, `Bob@${DOMAIN}`, 'carol@Remote.example']) expect((await client.command(`RCPT TO:<${r}>`)).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    client.write(`${message(`alice@${DOMAIN}`, `bob@${DOMAIN}`, 'routed')}.\r\n`);
    const done = await client.read();
    expect(done.code).toBe(250);
    const ingressId = done.text.split(' ').pop()!;
    client.close();

    const received = (await receivedRecords()).filter((r) => r.ingressId.startsWith(ingressId));
    expect(received.map((r) => [r.ingressId, r.userId, r.mailbox, r.flags, r.source]).sort()).toEqual(
      [
        [`${ingressId}.sent`, `alice@${DOMAIN}`, 'Sent', ['\\Seen'], 'submission'],
        [ingressId, `alice@${DOMAIN}`, 'INBOX', [], 'submission'],
        [ingressId, `bob@${DOMAIN}`, 'INBOX', [], 'submission'],
      ].sort(),
    );
    const outbound = (await outboundRecords()).filter((r) => r.ingressId === ingressId);
    expect(outbound).toEqual([
      expect.objectContaining({ outboundId: `${ingressId}:remote.example`, domain: 'remote.example', recipients: ['carol@Remote.example'], userId: `alice@${DOMAIN}`, mailFrom: `alice@${DOMAIN}`, attempt: 0 }),
    ]);
    // The stored message carries our trace header (RFC 5321 §4.4) over ESMTPSA (RFC 3848).
    const raw = (await blobs.get(received[0].rawBlob)).toString('utf8');
    expect(raw).toMatch(/^Received: from client\.example \(\[127\.0\.0\.1\]\)\r\n\tby submit\.example\.test \(Sluice\) with ESMTPSA id /);
    expect(raw.endsWith(message(`alice@${DOMAIN}`, `bob@${DOMAIN}`, 'routed'))).toBe(true);
  });

  it('nodemailer over STARTTLS (587) and over implicit TLS (465) to a local user', async () => {
    for (const [p, secure] of [[port, false], [tlsPort, true]] as const) {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: p,
        secure,
        requireTLS: !secure,
        auth: { user: `bob@${DOMAIN}`, pass: PASSWORD },
        tls: { ca, servername: 'localhost' },
      });
      const info = await transport.sendMail({ from: `Bob <bob@${DOMAIN}>`, to: `alice@${DOMAIN}`, subject: `nm-${secure}`, text: 'hi' });
      transport.close();
      expect(info.accepted).toEqual([`alice@${DOMAIN}`]);
      const id = /queued as (\S+)/.exec(info.response)![1];
      const received = (await receivedRecords()).filter((r) => r.ingressId.startsWith(id));
      expect(received.map((r) => `${r.userId}/${r.mailbox}`).sort()).toEqual([`alice@${DOMAIN}/INBOX`, `bob@${DOMAIN}/Sent`]);
      expect((await outboundRecords()).filter((r) => r.ingressId === id)).toEqual([]);
    }
  });
});
