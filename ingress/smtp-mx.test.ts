import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { FsBlobStore } from '../connectors/blob/fs.ts';
import { DOMAIN, HOSTNAME, TOPIC, greet, message, startHarness, type Harness } from './smtp-test-kit.ts';
import { ensureTlsCertificate } from './tls.ts';
import { createMxServer } from './smtp-mx.ts';
import { schemaType } from '../schemas/registry.ts';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const harnesses: Harness[] = [];
async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(options);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
});

describe('SMTP MX: greeting and EHLO', () => {
  it('greets with the host name and offers SIZE, 8BITMIME, SMTPUTF8, PIPELINING, ENHANCEDSTATUSCODES, no AUTH (RFC 5321 §4.1.1.1)', async () => {
    const h = await harness();
    const { client, ehlo } = await greet(h.port);
    expect(ehlo.code).toBe(250);
    const features = ehlo.lines.slice(1).map((l) => l.slice(4));
    expect(features).toEqual(expect.arrayContaining(['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', `SIZE ${50 * 1024 * 1024}`]));
    expect(features.some((f) => f.startsWith('AUTH'))).toBe(false);
    expect(features).not.toContain('STARTTLS');
    expect((await client.command('AUTH PLAIN AGFsaWNlAHg=')).code).toBe(500);
    expect((await client.command('QUIT')).code).toBe(221);
  });
});

describe('SMTP MX: delivery to local users', () => {
  it('accepts mail for a local user: one mail.received record and the raw message with a Received header in the blob store', async () => {
    const h = await harness();
    const { client } = await greet(h.port, 'client.example');
    expect(await client.command('MAIL FROM:<sender@remote.example>')).toMatchObject({ code: 250 });
    // RFC 5321 §2.4: the domain is case-insensitive; our local parts are too.
    expect(await client.command(`RCPT TO:<Alice@${DOMAIN.toUpperCase()}>`)).toMatchObject({ code: 250 });
    expect((await client.command('DATA')).code).toBe(354);
    const body = message('first');
    client.write(`${body}.\r\n`);
    const done = await client.read();
    expect(done.code).toBe(250);
    expect(done.text).toMatch(new RegExp(`^2\\.0\\.0 Ok: queued as ${UUID.source}$`));
    const ingressId = done.text.split(' ').pop()!;

    const records = await h.records();
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record).toMatchObject({
      ingressId,
      userId: `alice@${DOMAIN}`,
      recipient: `Alice@${DOMAIN.toUpperCase()}`,
      mailFrom: 'sender@remote.example',
      source: 'smtp',
      remoteAddress: '127.0.0.1',
      helo: 'client.example',
      mailbox: 'INBOX',
      flags: [],
    });
    expect(Math.abs(record.receivedAt - Date.now())).toBeLessThan(10_000);
    const partitionRecords = await Promise.all([0, 1, 2, 3].map((p) => h.log.read(TOPIC, p, 0, 10)));
    expect(partitionRecords.flat().map((r) => r.key)).toEqual([`alice@${DOMAIN}`]);

    const raw = (await h.blobs.get(record.rawBlob)).toString('utf8');
    expect(record.size).toBe(Buffer.byteLength(raw));
    // RFC 5321 §4.4: trace header first, then the message exactly as sent (dot-unstuffed).
    expect(raw).toMatch(
      new RegExp(
        `^Received: from client\\.example \\(\\[127\\.0\\.0\\.1\\]\\)\\r\\n\\tby ${HOSTNAME.replace(/\./g, '\\.')} \\(Sluice\\) with ESMTP id ${ingressId}\\r\\n\\tfor <Alice@EXAMPLE\\.TEST>;\\r\\n\\t\\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000\\r\\n`,
      ),
    );
    expect(raw.slice(raw.indexOf('+0000\r\n') + 7)).toBe(body);
    client.close();
  });

  it('writes one record per recipient, keyed by user id, sharing the ingress id and the blob; dot-stuffed lines are unstuffed', async () => {
    const h = await harness();
    const { client } = await greet(h.port);
    await client.command('MAIL FROM:<> SMTPUTF8');
    expect((await client.command(`RCPT TO:<alice@${DOMAIN}>`)).code).toBe(250);
    expect((await client.command(`RCPT TO:<bob@${DOMAIN}>`)).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    // RFC 5321 §4.5.2: a line starting with "." is sent with one more ".".
    client.write('Subject: dots\r\n\r\n..leading dot\r\n.\r\n');
    expect((await client.read()).code).toBe(250);
    const records = await h.records();
    expect(records.map((r) => r.userId).sort()).toEqual([`alice@${DOMAIN}`, `bob@${DOMAIN}`]);
    expect(new Set(records.map((r) => r.ingressId)).size).toBe(1);
    expect(new Set(records.map((r) => r.rawBlob)).size).toBe(1);
    expect(records[0].mailFrom).toBe('');
    const raw = (await h.blobs.get(records[0].rawBlob)).toString('utf8');
    // RFC 6531 §3.7.3 protocol name; no "for" clause with several recipients (RFC 5321 §7.2).
    expect(raw).toContain(' with UTF8SMTP id ');
    expect(raw).not.toContain('\tfor <');
    expect(raw.endsWith('\r\n\r\n.leading dot\r\n')).toBe(true);
    client.close();
  });

  it('answers 550 5.1.1 for an unknown user and 554 5.7.1 for a domain that is not local (no open relay)', async () => {
    const h = await harness();
    const { client } = await greet(h.port);
    await client.command('MAIL FROM:<sender@remote.example>');
    const unknown = await client.command(`RCPT TO:<nobody@${DOMAIN}>`);
    expect(unknown.code).toBe(550);
    expect(unknown.text).toBe(`5.1.1 <nobody@${DOMAIN}>: user unknown`);
    const relay = await client.command('RCPT TO:<victim@elsewhere.example>');
    expect(relay.code).toBe(554);
    expect(relay.text).toBe('5.7.1 Relay access denied');
    expect((await client.command('RCPT TO:<someone@[127.0.0.1]>')).code).toBe(554);
    // No recipient was accepted, so DATA is out of sequence (RFC 5321 §3.3).
    expect((await client.command('DATA')).code).toBe(503);
    expect(await h.records()).toEqual([]);
    client.close();
  });

  it('accepts postmaster of every local domain, and the domainless postmaster, for the configured postmaster (RFC 5321 §4.5.1, §4.1.1.3)', async () => {
    const h = await harness({ postmaster: `bob@${DOMAIN}` });
    const { client } = await greet(h.port);
    await client.command('MAIL FROM:<sender@remote.example>');
    expect((await client.command(`RCPT TO:<PostMaster@${DOMAIN}>`)).code).toBe(250);
    expect((await client.command('RCPT TO:<postmaster>')).code).toBe(250);
    expect((await client.command('RCPT TO:<postmaster@elsewhere.example>')).code).toBe(554);
    expect((await client.command('DATA')).code).toBe(354);
    expect((await client.command(`${message('to the postmaster')}\r\n.`)).code).toBe(250);
    expect((await h.records()).map((r) => r.userId)).toEqual([`bob@${DOMAIN}`]);
    client.close();
  });

  it('refuses a declared SIZE over the limit and a message that turns out bigger, with 552 5.3.4 (RFC 1870)', async () => {
    const h = await harness({ maxSize: 1000 });
    const { client, ehlo } = await greet(h.port);
    expect(ehlo.lines).toContain('250 SIZE 1000');
    const declared = await client.command('MAIL FROM:<sender@remote.example> SIZE=2000');
    expect(declared.code).toBe(552);
    expect(declared.text).toMatch(/^5\.3\.4 /);
    expect((await client.command('MAIL FROM:<sender@remote.example> SIZE=500')).code).toBe(250);
    expect((await client.command(`RCPT TO:<alice@${DOMAIN}>`)).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    client.write(`Subject: big\r\n\r\n${'x'.repeat(70)}\r\n`.repeat(40) + '.\r\n');
    const tooBig = await client.read();
    expect(tooBig.code).toBe(552);
    expect(tooBig.text).toBe('5.3.4 Message size exceeds fixed maximum');
    expect((await client.command('NOOP')).code).toBe(250);
    expect(await h.records()).toEqual([]);
    client.close();
  });

  it('answers 452 4.5.3 past maxRecipients and delivers to those accepted (RFC 5321 §4.5.3.1.10)', async () => {
    const h = await harness({ maxRecipients: 1 });
    const { client } = await greet(h.port);
    await client.command('MAIL FROM:<sender@remote.example>');
    expect((await client.command(`RCPT TO:<alice@${DOMAIN}>`)).code).toBe(250);
    const tooMany = await client.command(`RCPT TO:<bob@${DOMAIN}>`);
    expect(tooMany.code).toBe(452);
    expect(tooMany.text).toMatch(/^4\.5\.3 /);
    await client.command('DATA');
    client.write(`${message('capped')}.\r\n`);
    expect((await client.read()).code).toBe(250);
    expect((await h.records()).map((r) => r.userId)).toEqual([`alice@${DOMAIN}`]);
    client.close();
  });
});

describe('SMTP MX: STARTTLS (RFC 3207)', () => {
  it('offers STARTTLS with the self-signed certificate, upgrades, forgets the EHLO and accepts mail over TLS', async () => {
    const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
    try {
      const tls = ensureTlsCertificate(certDir, HOSTNAME);
      const h = await harness({ tls });
      const { client, ehlo } = await greet(h.port);
      expect(ehlo.lines.map((l) => l.slice(4))).toContain('STARTTLS');
      expect((await client.command('STARTTLS')).code).toBe(220);
      await client.startTls(tls.cert);
      // RFC 3207 §4.2: the client must say EHLO again; the server forgot the earlier one.
      expect((await client.command('MAIL FROM:<sender@remote.example>')).code).toBe(503);
      const again = await client.command('EHLO client.example');
      expect(again.lines.map((l) => l.slice(4))).not.toContain('STARTTLS');
      await client.command('MAIL FROM:<sender@remote.example>');
      expect((await client.command(`RCPT TO:<alice@${DOMAIN}>`)).code).toBe(250);
      await client.command('DATA');
      client.write(`${message('secret')}.\r\n`);
      expect((await client.read()).code).toBe(250);
      const [record] = await h.records();
      const raw = (await h.blobs.get(record.rawBlob)).toString('utf8');
      expect(raw).toContain(' with ESMTPS id ');
      client.close();
    } finally {
      fs.rmSync(certDir, { recursive: true, force: true });
    }
  });
});

describe('SMTP MX: failures before the record is durable answer 451 (DESIGN.md §1.1)', () => {
  it('answers 451 4.3.0 when the blob store cannot write, and records nothing', async () => {
    const broken = await harness();
    // A second server whose blob "directory" lies under a regular file: every put fails.
    const notADir = path.join(broken.dir, 'not-a-dir');
    fs.writeFileSync(notADir, 'x');
    const server = createMxServer({
      log: broken.log,
      blobs: new FsBlobStore({ dir: path.join(notADir, 'blobs') }),
      store: broken.store,
      logger: pino({ level: 'silent' }),
      hostname: HOSTNAME,
      reverseLookup: false,
      encode: (v) => schemaType('MailReceived').toBuffer(v),
    });
    const { port } = await server.listen(0, '127.0.0.1');
    try {
      const { client } = await greet(port);
      await client.command('MAIL FROM:<sender@remote.example>');
      expect((await client.command(`RCPT TO:<alice@${DOMAIN}>`)).code).toBe(250);
      await client.command('DATA');
      client.write(`${message('lost?')}.\r\n`);
      const reply = await client.read();
      expect(reply.code).toBe(451);
      expect(reply.text).toBe('4.3.0 Temporary failure, please retry');
      expect((await client.command('NOOP')).code).toBe(250);
      client.close();
    } finally {
      await server.close();
    }
    expect(await broken.records()).toEqual([]);
  });

  it('answers 451 4.3.0 when the log cannot produce, and nothing is on mail.received', async () => {
    const h = await harness();
    const { client } = await greet(h.port);
    await client.command('MAIL FROM:<sender@remote.example>');
    expect((await client.command(`RCPT TO:<alice@${DOMAIN}>`)).code).toBe(250);
    await client.command('DATA');
    await h.log.close();
    client.write(`${message('lost?')}.\r\n`);
    const reply = await client.read();
    expect(reply.code).toBe(451);
    expect(reply.text).toBe('4.3.0 Temporary failure, please retry');
    client.close();
    const reopened = new EmbeddedLog({ path: path.join(h.dir, 'log.sqlite') });
    try {
      const ends = await reopened.endOffsets(TOPIC);
      expect(ends.reduce((a, b) => a + b, 0)).toBe(0);
    } finally {
      await reopened.close();
    }
  });
});

describe('ensureTlsCertificate', () => {
  it('makes a self-signed certificate for the host name, localhost and 127.0.0.1 once, then reuses it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
    try {
      const first = ensureTlsCertificate(dir, HOSTNAME);
      expect(first.created).toBe(true);
      expect(first.key).toContain('PRIVATE KEY');
      const cert = new X509Certificate(first.cert);
      expect(cert.subject).toContain(`CN=${HOSTNAME}`);
      expect(cert.subjectAltName).toContain(`DNS:${HOSTNAME}`);
      expect(cert.subjectAltName).toContain('DNS:localhost');
      expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
      expect(cert.checkPrivateKey(createPrivateKey(first.key))).toBe(true);
      expect((fs.statSync(path.join(dir, 'tls', 'key.pem')).mode & 0o077)).toBe(0);
      const second = ensureTlsCertificate(dir, HOSTNAME);
      expect(second).toEqual({ key: first.key, cert: first.cert, created: false });
      expect(() => ensureTlsCertificate(path.join(dir, 'other'), 'bad name; rm -rf /')).toThrow(/not a host name/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
