/**
 * Spam and virus checks end to end: a `sluice serve` child process with a real clamd (EICAR
 * signature written by the test), a real rspamd (stock rules) and a DNS server on loopback
 * holding example.org's SPF, DKIM key and DMARC p=reject policy. Mail goes in over SMTP with
 * nodemailer and Python's smtplib; what was stored is read from the data folder.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { dkimSign } from 'mailauth';
import { provision, sluice, startSluice, tempDir, waitFor, type RunningSluice } from './harness/server.ts';
import { allMessages, metricSum, openStoreOf, pythonSend, scrape } from './harness/inspect.ts';
import { EICAR, startClamd, type RunningClamd } from './harness/clamd.ts';
import { startRspamd, type RunningRspamd } from './harness/rspamd.ts';
import { startDns, type RunningDns } from './harness/dns.ts';
import { openEmbeddedBlobStore } from '../ops/app.ts';
import { readMessageBytes } from '../connectors/blob/body.ts';
import type { StoredMessage } from '../connectors/store/store.ts';

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let clamd: RunningClamd;
let rspamd: RunningRspamd;
let dns: RunningDns;
let server: RunningSluice;
let dataDir: string;

beforeAll(async () => {
  dns = await startDns({
    'example.org': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    'mx.example.org': { A: ['127.0.0.1'] },
    'sel._domainkey.example.org': { TXT: [`v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`] },
    '_dmarc.example.org': { TXT: ['v=DMARC1; p=reject'] },
  });
  [clamd, rspamd] = await Promise.all([startClamd(), startRspamd({ dnsServer: dns.address })]);
  dataDir = tempDir();
  await provision(dataDir, 'example.test', ['bob@example.test', 'carol@example.test', 'dave@example.test']);
  server = await startSluice({
    dataDir,
    env: { SLUICE_SCAN_CLAMD: clamd.address, SLUICE_SCAN_RSPAMD: rspamd.url, SLUICE_DNS_SERVERS: dns.address },
  });
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await Promise.all([clamd?.stop(), rspamd?.stop(), dns?.close()]);
});

/** Sends `raw` over SMTP with nodemailer (EHLO mx.example.org, from 127.0.0.1). */
async function send(raw: string | Buffer, to: string, from = 'alice@example.org'): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true, name: 'mx.example.org' });
  try {
    const info = await transport.sendMail({ envelope: { from, to: [to] }, raw });
    expect(info.accepted).toEqual([to]);
  } finally {
    transport.close();
  }
}

async function compose(subject: string, attachment: string): Promise<Buffer> {
  return new MailComposer({
    from: 'Alice <alice@example.org>',
    to: 'bob@example.test',
    subject,
    messageId: `<${subject.replace(/\W+/g, '-')}@example.org>`,
    text: 'The file you asked for.',
    attachments: [{ filename: 'tool.com', content: Buffer.from(attachment) }],
  })
    .compile()
    .build();
}

async function signed(raw: Buffer | string): Promise<string> {
  const text = raw.toString();
  const { signatures } = await dkimSign(text, { signatureData: [{ signingDomain: 'example.org', selector: 'sel', privateKey: privatePem }] } as unknown as Parameters<typeof dkimSign>[1]);
  return signatures + text;
}

async function stored(users: readonly string[]): Promise<StoredMessage[]> {
  const store = openStoreOf(dataDir);
  try {
    return await allMessages(store, users);
  } finally {
    await store.close();
  }
}

async function bytesOf(message: StoredMessage): Promise<string> {
  const blobs = openEmbeddedBlobStore(dataDir);
  try {
    return (await readMessageBytes(blobs, message.body)).toString('utf8');
  } finally {
    await blobs.close();
  }
}

async function waitForSubject(user: string, subject: string): Promise<StoredMessage> {
  return waitFor(`${subject} stored for ${user}`, async () => (await stored([user])).find((m) => m.subject === subject), 30_000);
}

describe('virus: clamd', () => {
  it('quarantines the EICAR attachment (not in any mailbox) and delivers its clean twin; release puts it in INBOX', async () => {
    await send(await signed(await compose('eicar inside', EICAR)), 'bob@example.test');
    await send(await signed(await compose('clean twin', 'harmless bytes of about the same length as the test file')), 'bob@example.test');
    const twin = await waitForSubject('bob@example.test', 'clean twin');
    expect(twin.mailbox).toBe('INBOX');
    expect(await bytesOf(twin)).toMatch(new RegExp(`^X-Sluice-Virus-Scan: clean \\(clamd ${clamd.address.replace(/\./g, '\\.')}\\)\r\n`));

    const listed = await waitFor('quarantine entry', async () => {
      const r = await sluice(['quarantine', 'list'], { dataDir });
      return r.stdout.includes('eicar inside') ? r.stdout : undefined;
    }, 30_000);
    expect(listed).toMatch(/Sluice-Test\.EICAR\.UNOFFICIAL\theld/);
    expect((await stored(['bob@example.test'])).map((m) => m.subject)).not.toContain('eicar inside');

    const key = listed.split('\n').find((l) => l.includes('eicar inside'))!.split('\t')[0];
    const release = await sluice(['quarantine', 'release', key], { dataDir });
    expect(release.code, release.stderr).toBe(0);
    const released = await waitForSubject('bob@example.test', 'eicar inside');
    expect(released.mailbox).toBe('INBOX');
    expect(await bytesOf(released)).toMatch(/^X-Sluice-Quarantine: released .*; found Sluice-Test\.EICAR\.UNOFFICIAL\r\n/);
    expect((await sluice(['quarantine', 'list'], { dataDir })).stdout).toMatch(/\treleased 20/);
    expect((await sluice(['quarantine', 'delete', key], { dataDir })).code).toBe(0);
    expect((await sluice(['quarantine', 'list'], { dataDir })).stdout).toMatch(/^0 quarantined message\(s\)$/m);
  });
});

describe('spam: sender authentication and rspamd', () => {
  const note = (subject: string, body: string): string =>
    [`From: Alice <alice@example.org>`, 'To: carol@example.test', `Subject: ${subject}`, `Message-ID: <${subject.replace(/\W+/g, '-')}@example.org>`, 'Date: Sat, 05 Dec 2026 14:00:00 +0000', '', body, ''].join('\r\n');

  it('delivers a correctly signed message to INBOX, with dkim=pass and dmarc=pass', async () => {
    await send(await signed(note('signed lunch', 'Lunch on Tuesday?')), 'carol@example.test');
    const m = await waitForSubject('carol@example.test', 'signed lunch');
    expect(m.mailbox).toBe('INBOX');
    const raw = await bytesOf(m);
    expect(raw).toMatch(/^Authentication-Results: mx\.sluice\.test;[^]*dkim=pass[^]*dmarc=pass/m);
  });

  it('junks a failing DKIM signature from a DMARC p=reject domain, with Authentication-Results saying why', async () => {
    const forged = (await signed(note('pay now', 'Pay invoice 1234 today.'))).replace('1234', '9999');
    // Envelope sender in another domain: SPF cannot align, so DMARC rests on the broken signature.
    await send(forged, 'carol@example.test', 'bounces@elsewhere.test');
    const m = await waitForSubject('carol@example.test', 'pay now');
    expect(m.mailbox).toBe('Junk');
    expect(m.flags).toContain('$Junk');
    const raw = await bytesOf(m);
    expect(raw).toMatch(/^Authentication-Results: mx\.sluice\.test;[^]*dkim=(fail|neutral)[^]*dmarc=fail/m);
    expect(raw).toMatch(/^X-Spam-Status: Yes, .*DMARC_POLICY_REJECT=10/m);
  });

  it('puts GTUBE in Junk (rspamd says reject; accepted mail is never bounced)', async () => {
    await send(await signed(note('gtube', GTUBE)), 'carol@example.test');
    const m = await waitForSubject('carol@example.test', 'gtube');
    expect(m.mailbox).toBe('Junk');
    expect(m.flags).toContain('$Junk');
    expect(await bytesOf(m)).toMatch(/^X-Spam-Status: Yes, .*RSPAMD\(reject\)/m);
  });
});

describe('virus: clamd killed during a load', () => {
  it('delivers nothing unscanned while clamd is down, and everything once it is back', async () => {
    const count = 40;
    let acks = 0;
    let killed: Promise<void> | undefined;
    await pythonSend({ port: server.smtpPort, users: 'dave@example.test', count, concurrency: 2, 'per-conn': 5, size: 1000 }, (e) => {
      if (e.ack && ++acks === 5) killed = clamd.kill();
    });
    await killed;
    expect(acks).toBe(count); // every message was accepted with 250 while clamd was down
    await new Promise((r) => setTimeout(r, 3_000));
    const during = await stored(['dave@example.test']);
    expect(during.length).toBeLessThan(count);
    const metrics = await scrape(server.httpPort);
    expect(metricSum(metrics, 'sluice_stage_retries_total', { stage: 'virus' })).toBeGreaterThan(0);
    expect(metricSum(metrics, 'sluice_consumer_lag_records', { stage: 'virus' })).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await stored(['dave@example.test'])).length).toBe(during.length); // no progress without clamd

    await clamd.restart();
    const all = await waitFor('all delivered after clamd restart', async () => {
      const now = await stored(['dave@example.test']);
      return now.length === count ? now : undefined;
    }, 90_000);
    for (const m of all) expect(await bytesOf(m)).toMatch(/^X-Sluice-Virus-Scan: clean /);
  });
});

describe('no clamd configured', () => {
  it('warns at start-up, shows it on /metrics, and marks stored mail not scanned', async () => {
    const dir = tempDir();
    await provision(dir, 'example.test', ['erin@example.test']);
    const bare = await startSluice({ dataDir: dir });
    try {
      expect(bare.stderr()).toMatch(/NO VIRUS SCANNING/);
      const metrics = await scrape(bare.httpPort);
      expect(metricSum(metrics, 'sluice_scan_configured', { scanner: 'clamd' })).toBe(0);
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: bare.smtpPort, secure: false, ignoreTLS: true });
      await transport.sendMail({ envelope: { from: 'a@example.org', to: ['erin@example.test'] }, raw: 'From: a@example.org\r\nSubject: plain\r\n\r\nhi\r\n' });
      transport.close();
      const store = openStoreOf(dir);
      const m = await waitFor('stored', async () => (await allMessages(store, ['erin@example.test']))[0], 30_000);
      await store.close();
      const blobs = openEmbeddedBlobStore(dir);
      expect((await readMessageBytes(blobs, m.body)).toString()).toMatch(/^X-Sluice-Virus-Scan: not scanned /);
      await blobs.close();
    } finally {
      await bare.stop();
    }
  });
});
