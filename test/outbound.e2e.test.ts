/**
 * The sending flow end to end over loopback: a `sluice serve` child process (the sender, domain
 * sluice.test) delivers mail submitted by nodemailer to remote domains whose MX hosts, found in
 * a DNS server the test runs, sit on other loopback addresses on one port (`outbound.port`):
 *
 * - remote.test → 127.0.0.2: a second Sluice (bob@remote.test; unknown users get 550 5.1.1);
 * - later.test  → 127.0.0.3: an SMTP server (smtp-server) that the test starts only after the
 *   first attempts were refused;
 * - silent.test → 127.0.0.5: nothing listens (connection refused, forever);
 * - crash.test  → 127.0.0.6: an SMTP server that kills the sender with SIGKILL after receiving a
 *   message and before answering it.
 *
 * The schedule is shortened by config: retries after 1 s, 1 s, 2 s; delayed DSN at 4 s; expiry
 * at 12 s. The sender's clamd is real (EICAR signature written by the test harness).
 */
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { SMTPServer } from 'smtp-server';
import { dkimVerify } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, provision, startSluice, tempDir, waitFor, type RunningSluice } from './harness/server.ts';
import { allMessages, openStoreOf } from './harness/inspect.ts';
import { startDns, type DnsZone, type RunningDns } from './harness/dns.ts';
import { EICAR, startClamd, type RunningClamd } from './harness/clamd.ts';
import { openEmbeddedBlobStore } from '../ops/app.ts';
import { readMessageBytes } from '../connectors/blob/body.ts';
import { FsDkimKeys } from '../connectors/dkim/fs.ts';
import { dkimRecordName, dkimRecordText } from '../connectors/dkim/keys.ts';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { schemaType } from '../schemas/registry.ts';
import type { DeliveryResult } from '../schemas/types.ts';

const ALICE = 'alice@sluice.test';
const BOB = 'bob@remote.test';
const PASSWORD = 'secret';

/** An SMTP server on `host:port` that keeps every message it accepts. */
interface Sink {
  readonly messages: Buffer[];
  onMessage?: (raw: Buffer) => Promise<void>;
  close(): Promise<void>;
}

async function startSink(host: string, port: number): Promise<Sink> {
  const sink: Sink = {
    messages: [],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        sink.messages.push(raw);
        void (sink.onMessage?.(raw) ?? Promise.resolve()).then(() => callback(null, 'Ok: kept'));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return sink;
}

function messageIdOf(raw: Buffer): string | undefined {
  return /^Message-ID:\s*(\S+)/im.exec(raw.toString('latin1'))?.[1];
}

let dns: RunningDns;
let clamd: RunningClamd;
let remote: RunningSluice;
let sender: RunningSluice;
let senderDir: string;
let remoteDir: string;
let port: number;
let senderEnv: Record<string, string>;
const zone: Record<string, DnsZone[string]> = {};
const sinks: Sink[] = [];

beforeAll(async () => {
  port = await freePort();
  senderDir = tempDir();
  remoteDir = tempDir();
  await Promise.all([provision(senderDir, 'sluice.test', [ALICE], PASSWORD), provision(remoteDir, 'remote.test', [BOB], PASSWORD)]);
  // The DKIM record `sluice domain add` printed, published in the test's DNS.
  const key = (await new FsDkimKeys(join(senderDir, 'dkim')).get('sluice.test'))!;
  Object.assign(zone, {
    [dkimRecordName(key)]: { TXT: [dkimRecordText(key)] },
    'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] },
    'mx.remote.test': { A: ['127.0.0.2'] },
    'later.test': { MX: [{ exchange: 'mx.later.test', priority: 10 }] },
    'mx.later.test': { A: ['127.0.0.3'] },
    'silent.test': { MX: [{ exchange: 'mx.silent.test', priority: 10 }] },
    'mx.silent.test': { A: ['127.0.0.5'] },
    'crash.test': { MX: [{ exchange: 'mx.crash.test', priority: 10 }] },
    'mx.crash.test': { A: ['127.0.0.6'] },
  });
  dns = await startDns(zone);
  clamd = await startClamd();
  remote = await startSluice({ dataDir: remoteDir, env: { SLUICE_LISTEN_SMTP: `127.0.0.2:${port}`, SLUICE_DNS_SERVERS: dns.address, SLUICE_HOSTNAME: 'mx.remote.test' } });
  senderEnv = {
    SLUICE_DNS_SERVERS: dns.address,
    SLUICE_OUTBOUND_PORT: String(port),
    SLUICE_OUTBOUND_RETRY_SCHEDULE: '1s,1s,2s',
    SLUICE_OUTBOUND_DELAY_WARNING: '4s',
    SLUICE_OUTBOUND_MAX_AGE: '12s',
    SLUICE_OUTBOUND_CONNECT_TIMEOUT: '3s',
    SLUICE_SCAN_CLAMD: clamd.address,
  };
  sender = await startSluice({ dataDir: senderDir, env: senderEnv });
}, 120_000);

afterAll(async () => {
  await sender?.stop();
  await remote?.stop();
  for (const s of sinks) await s.close();
  await clamd?.stop();
  await dns?.close();
});

async function submit(to: string, subject: string, extra: Partial<Mail.Options> = {}): Promise<string> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1', port: sender.submissionPort, secure: false, requireTLS: true,
    auth: { user: ALICE, pass: PASSWORD }, tls: { ca: readFileSync(join(senderDir, 'tls', 'cert.pem'), 'utf8') },
  });
  const messageId = `<${subject.replace(/\W+/g, '-')}-${Date.now()}@client.test>`;
  await transport.sendMail({ from: ALICE, to, subject, text: `This is ${subject}.`, messageId, ...extra });
  transport.close();
  return messageId;
}

/** The raw bytes of the stored messages of `users` in `dataDir` that `match`. */
async function storedRaw(dataDir: string, users: readonly string[], match: (raw: string, mailbox: string) => boolean): Promise<string[]> {
  const store = openStoreOf(dataDir);
  const blobs = openEmbeddedBlobStore(dataDir);
  try {
    const out: string[] = [];
    for (const m of await allMessages(store, users)) {
      const raw = (await readMessageBytes(blobs, m.body)).toString('latin1');
      if (match(raw, m.mailbox)) out.push(raw);
    }
    return out;
  } finally {
    await store.close();
    await blobs.close();
  }
}

/** DSNs in alice's INBOX about the message `messageId` (its headers are in the report). */
function dsnsAbout(messageId: string): Promise<string[]> {
  return storedRaw(senderDir, [ALICE], (raw, mailbox) => mailbox === 'INBOX' && /multipart\/report; report-type=delivery-status/.test(raw) && raw.includes(`Message-ID: ${messageId}`));
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sending to remote domains', () => {
  it('delivers to the MX (a second Sluice on 127.0.0.2) exactly once, DKIM-signed with a signature that verifies', async () => {
    const messageId = await submit(BOB, 'hello remote');
    const copies = await waitFor('delivered to bob@remote.test', async () => {
      const found = await storedRaw(remoteDir, [BOB], (raw) => raw.includes(`Message-ID: ${messageId}`));
      return found.length > 0 && found;
    }, 30_000);
    // RFC 6376 §6: the verifier fetches sluice._domainkey.sluice.test from the test DNS.
    const resolver = new Resolver();
    resolver.setServers([dns.address]);
    const verified = await dkimVerify(Buffer.from(copies[0], 'latin1'), { resolver: (name: string, type: string) => resolver.resolve(name, type) as Promise<string[][]> });
    expect(verified.results.map((r) => [r.signingDomain, r.selector, r.status.result])).toEqual([['sluice.test', 'sluice', 'pass']]);
    expect(copies[0]).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=sluice\.test;/m);
    // The receiving Sluice checked it too (its spam stage, through the same DNS).
    expect(copies[0]).toMatch(/Authentication-Results: mx\.remote\.test;[\s\S]*dkim=pass/);
    await settle(3_000);
    expect(await storedRaw(remoteDir, [BOB], (raw) => raw.includes(`Message-ID: ${messageId}`))).toHaveLength(1);
    // Only alice's Sent copy on the sender's side, and no DSN.
    expect(await dsnsAbout(messageId)).toEqual([]);
  }, 60_000);

  it('adds Message-ID, Date and MIME-Version where the client left them out, then signs', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: sender.submissionPort, secure: false, requireTLS: true,
      auth: { user: ALICE, pass: PASSWORD }, tls: { ca: readFileSync(join(senderDir, 'tls', 'cert.pem'), 'utf8') },
    });
    // A raw message with none of the three (nodemailer sends `raw` as it is).
    const raw = `From: <${ALICE}>\r\nTo: <${BOB}>\r\nSubject: bare-${Date.now()}\r\n\r\nNo Date, no Message-ID.\r\n`;
    const subject = /Subject: (\S+)/.exec(raw)![1];
    await transport.sendMail({ envelope: { from: ALICE, to: [BOB] }, raw });
    transport.close();
    const [copy] = await waitFor('delivered', async () => {
      const found = await storedRaw(remoteDir, [BOB], (m) => m.includes(`Subject: ${subject}`));
      return found.length > 0 && found;
    }, 30_000);
    expect(copy).toMatch(/^Message-ID: <[0-9a-f-]{36}@mx\.sluice\.test>\r$/m);
    expect(copy).toMatch(/^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\r$/m);
    expect(copy).toMatch(/^MIME-Version: 1\.0\r$/m);
    expect(copy).toMatch(/Authentication-Results: mx\.remote\.test;[\s\S]*dkim=pass/);
  }, 60_000);

  it('a recipient the remote answers with 550 gets a failure DSN in the sender\'s INBOX', async () => {
    const messageId = await submit('nobody@remote.test', 'to nobody');
    const [dsn] = await waitFor('failure DSN', async () => {
      const found = await dsnsAbout(messageId);
      return found.length > 0 && found;
    }, 30_000);
    expect(dsn).toMatch(/^Subject: Undelivered Mail Returned to Sender/m);
    expect(dsn).toMatch(/^From: Mail Delivery System <MAILER-DAEMON@mx\.sluice\.test>/m);
    expect(dsn).toContain('Final-Recipient: rfc822; nobody@remote.test');
    expect(dsn).toContain('Action: failed');
    expect(dsn).toContain('Status: 5.1.1');
    expect(dsn).toMatch(/Diagnostic-Code: smtp; 550 5\.1\.1/);
    expect(dsn).toContain('Remote-MTA: dns; mx.remote.test');
    expect(dsn).toContain('Content-Type: text/rfc822-headers');
  }, 60_000);

  it('the remote MX down for the first attempts, then up: delivered after the retries, exactly once', async () => {
    const messageId = await submit('carol@later.test', 'later');
    await settle(2_500); // attempts at 0 s and 1 s are refused
    const sink = await startSink('127.0.0.3', port);
    sinks.push(sink);
    await waitFor('delivered to later.test', async () => sink.messages.some((m) => messageIdOf(m) === messageId), 30_000);
    await settle(4_000);
    expect(sink.messages.filter((m) => messageIdOf(m) === messageId)).toHaveLength(1);
    expect(await dsnsAbout(messageId)).toEqual([]);
  }, 60_000);

  it('a domain that never answers: one delayed DSN, then at expiry a failure DSN', async () => {
    const messageId = await submit('dave@silent.test', 'silent');
    const delayed = await waitFor('delayed DSN', async () => {
      const found = (await dsnsAbout(messageId)).filter((d) => d.includes('Action: delayed'));
      return found.length > 0 && found;
    }, 30_000);
    expect(delayed[0]).toMatch(/^Subject: Delayed Mail \(still being retried\)/m);
    expect(delayed[0]).toContain('Final-Recipient: rfc822; dave@silent.test');
    expect(delayed[0]).toMatch(/Will-Retry-Until: /);
    const failed = await waitFor('failure DSN at expiry', async () => {
      const found = (await dsnsAbout(messageId)).filter((d) => d.includes('Action: failed'));
      return found.length > 0 && found;
    }, 30_000);
    expect(failed[0]).toContain('Status: 4.4.7');
    expect(failed[0]).toMatch(/Diagnostic-Code: x-sluice; delivery time expired; last reply: 4\.4\.1 no answer/);
    await settle(3_000);
    const all = await dsnsAbout(messageId);
    expect(all.filter((d) => d.includes('Action: delayed'))).toHaveLength(1);
    expect(all.filter((d) => d.includes('Action: failed'))).toHaveLength(1);
  }, 60_000);

  it('outbound scan: a message with the EICAR file attached is not sent; the sender gets a DSN', async () => {
    const messageId = await submit(BOB, 'eicar', { attachments: [{ filename: 'eicar.com', content: EICAR }] });
    const [dsn] = await waitFor('virus DSN', async () => {
      const found = await dsnsAbout(messageId);
      return found.length > 0 && found;
    }, 30_000);
    expect(dsn).toContain('Status: 5.7.1');
    expect(dsn).toMatch(/it contains a virus: Sluice-Test\.EICAR/);
    expect(dsn).not.toContain('EICAR-STANDARD-ANTIVIRUS-TEST-FILE'); // headers only, not the attachment
    // A clean message sent after it arrives, the infected one never did.
    const after = await submit(BOB, 'after eicar');
    await waitFor('clean one delivered', async () => (await storedRaw(remoteDir, [BOB], (raw) => raw.includes(`Message-ID: ${after}`))).length > 0, 30_000);
    expect(await storedRaw(remoteDir, [BOB], (raw) => raw.includes(`Message-ID: ${messageId}`))).toEqual([]);
  }, 60_000);

  it('a crash between the remote 250 and the commit re-sends that message once, never more, and loses nothing', async () => {
    const sink = await startSink('127.0.0.6', port);
    sinks.push(sink);
    let crashing = false;
    let crashed = false;
    sink.onMessage = async () => {
      if (crashing) return;
      crashing = true;
      await sender.kill(); // SIGKILL: the sender never reads this 250 nor commits the attempt
      crashed = true;
    };
    const messageId = await submit('erin@crash.test', 'crash');
    await waitFor('the crash', async () => crashed, 30_000);
    sender = await startSluice({ dataDir: senderDir, env: senderEnv });
    await waitFor('re-sent after the restart', async () => sink.messages.filter((m) => messageIdOf(m) === messageId).length >= 2, 30_000);
    await settle(4_000);
    // At most one extra copy: the one the crash made unavoidable (RFC 5321 §6.1); and then done.
    expect(sink.messages.filter((m) => messageIdOf(m) === messageId)).toHaveLength(2);
    expect(await dsnsAbout(messageId)).toEqual([]);
  }, 90_000);

  it('every recipient ends with one final outcome on mail.outbound.results', async () => {
    await sender.stop();
    const log = new EmbeddedLog({ path: join(senderDir, 'log.db') });
    const type = schemaType('DeliveryResult');
    const results: DeliveryResult[] = [];
    try {
      for (let p = 0; p < 4; p++) for (const r of await log.read('mail.outbound.results', p, 0, 10_000)) results.push(type.fromBuffer(r.value) as DeliveryResult);
    } finally {
      await log.close();
    }
    const final = (recipient: string) => results.filter((r) => r.recipient === recipient && r.status !== 'deferred').map((r) => r.status);
    expect(final(BOB).filter((s) => s === 'delivered').length).toBeGreaterThanOrEqual(3);
    expect(final(BOB)).toContain('blocked');
    expect(final('nobody@remote.test')).toEqual(['failed']);
    expect(final('carol@later.test')).toEqual(['delivered']);
    expect(results.filter((r) => r.recipient === 'carol@later.test' && r.status === 'deferred').length).toBeGreaterThanOrEqual(2);
    expect(final('dave@silent.test')).toEqual(['expired']);
    // The crash: the replayed attempt's outcome is the only one recorded.
    expect(final('erin@crash.test')).toEqual(['delivered']);
  }, 60_000);
});
