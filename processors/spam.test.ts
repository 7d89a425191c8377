/**
 * The spam stage with real sender authentication (mailauth) against a DNS server the test runs
 * on loopback (dns2), and a real rspamd (stock rules, no network).
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimSign } from 'mailauth';
import { storedBytes } from './mime/add-headers.ts';
import { spamProcessor, JUNK_KEYWORD, authservId, decide, headerFindings } from './spam.ts';
import { parseProcessor } from './parse.ts';
import { RetryableError } from './processor.ts';
import type { MailReceived, ParsedMail } from '../schemas/types.ts';
import { inputRecord, openTestResources, receivedFor, type TestResources } from './test-resources.ts';
import { RspamdScanner } from '../connectors/scan/rspamd.ts';
import { DEFAULT_SPAM_POLICY, type ScanResources } from '../connectors/scan/resources.ts';
import { dnsResolver } from '../ops/scan.ts';
import { startDns, type RunningDns } from '../test/harness/dns.ts';
import { startRspamd, type RunningRspamd } from '../test/harness/rspamd.ts';
import { freePort } from '../test/harness/server.ts';

export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicDer = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

let res: TestResources;
let dns: RunningDns;
let rspamd: RunningRspamd;
beforeAll(async () => {
  res = openTestResources();
  dns = await startDns({
    'example.org': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    'mx.example.org': { A: ['127.0.0.1'] },
    'sel._domainkey.example.org': { TXT: [`v=DKIM1; k=rsa; p=${publicDer}`] },
    '_dmarc.example.org': { TXT: ['v=DMARC1; p=reject'] },
  });
  rspamd = await startRspamd({ dnsServer: dns.address });
}, 90_000);
afterAll(async () => {
  await rspamd?.stop();
  await dns?.close();
  await res?.close();
});

function scan(withRspamd: boolean, url = rspamd.url): ScanResources {
  return {
    virus: null,
    spam: withRspamd ? new RspamdScanner({ url }) : null,
    quarantine: null,
    bayes: null,
    resolver: dnsResolver([dns.address]),
    hostname: 'mx.sluice.test',
    spamPolicy: DEFAULT_SPAM_POLICY,
  };
}

function message(body: string, id: string): string {
  return [
    'From: Alice <alice@example.org>',
    'To: bob@example.test',
    `Subject: note ${id}`,
    `Message-ID: <${id}@example.org>`,
    'Date: Sat, 05 Dec 2026 14:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n');
}

async function signed(text: string): Promise<string> {
  const { signatures } = await dkimSign(text, { signatureData: [{ signingDomain: 'example.org', selector: 'sel', privateKey: privatePem }] } as unknown as Parameters<typeof dkimSign>[1]);
  return signatures + text;
}

async function run(raw: string, envelope: Partial<MailReceived>, scanResources: ScanResources): Promise<{ mail: ParsedMail; stored: string }> {
  const bytes = Buffer.from(raw);
  const rawBlob = await res.blobs.put(bytes);
  const received = { ...receivedFor(rawBlob, bytes.length, `ing-${Math.random()}`), helo: 'mx.example.org', mailFrom: 'alice@example.org', ...envelope };
  const [parsed] = await parseProcessor.create(parseProcessor.spec.config.parse({}), res).process(inputRecord('mail.received', received.userId, received));
  const stage = spamProcessor.create({}, { ...res, scan: scanResources });
  const out = await stage.process(inputRecord('mail.parsed', received.userId, parsed.value as ParsedMail));
  expect(out).toHaveLength(1);
  const mail = out[0].value;
  return { mail, stored: storedBytes(mail, await res.blobs.get(mail.received.rawBlob)).toString('utf8') };
}

const authResults = (stored: string): string => /^Authentication-Results: [^]*?\r\n(?![ \t])/m.exec(stored)?.[0] ?? '';

describe('spam stage: sender authentication', () => {
  it('passes a correctly signed message from an SPF-listed address, with Authentication-Results saying so', async () => {
    const { mail, stored } = await run(await signed(message('Lunch on Tuesday?', 'good')), { remoteAddress: '127.0.0.1' }, scan(false));
    const ar = authResults(stored);
    // RFC 8601 §2.2: authserv-id first, then method=result pairs.
    expect(ar).toMatch(/^Authentication-Results: mx\.sluice\.test;/);
    expect(ar).toMatch(/dkim=pass/);
    expect(ar).toMatch(/spf=pass/);
    expect(ar).toMatch(/dmarc=pass/);
    expect(mail.received.mailbox).toBe('INBOX');
    expect(mail.received.flags).not.toContain(JUNK_KEYWORD);
    expect(stored).toMatch(/^X-Spam-Status: No,/m);
    // The fields travel on the record; the raw message is not copied (split-attachments writes it once).
    expect(mail.addedHeaders).toMatch(/^Authentication-Results: mx\.sluice\.test;/m);
    expect(stored.endsWith((await res.blobs.get(mail.received.rawBlob)).toString('utf8'))).toBe(true);
    expect(stored.startsWith(mail.addedHeaders)).toBe(true);
  });

  it('junks a message whose DKIM signature fails from a DMARC p=reject domain, saying why', async () => {
    const tampered = (await signed(message('Pay invoice 1234 today.', 'bad'))).replace('invoice 1234', 'invoice 9999');
    const { mail, stored } = await run(tampered, { remoteAddress: '192.0.2.7' }, scan(false));
    const ar = authResults(stored);
    expect(ar).toMatch(/dkim=(fail|neutral)/);
    expect(ar).toMatch(/spf=fail/);
    expect(ar).toMatch(/dmarc=fail/);
    expect(ar).toMatch(/p=REJECT|policy\.dmarc=reject/i);
    expect(mail.received.mailbox).toBe('Junk');
    expect(mail.received.flags).toContain(JUNK_KEYWORD);
    expect(stored).toMatch(/^X-Spam-Status: Yes, score=13 .*DMARC_POLICY_REJECT=10/m);
  });

  it('deletes Authentication-Results fields that claim this server (RFC 8601 §5) and keeps other servers\' ones', async () => {
    const forged = [
      'Authentication-Results: MX.Sluice.Test (forged);',
      '  dkim=pass header.d=example.org',
      'Authentication-Results: relay.example.net; spf=pass smtp.mailfrom=example.org',
      'Authentication-Results: mx.sluice.test 1; dmarc=pass',
    ].join('\r\n');
    const { stored, mail } = await run(`${forged}\r\n${message('about the forged results', 'forged')}`, { remoteAddress: '192.0.2.7' }, scan(false));
    const fields = stored.split('\r\n\r\n')[0].match(/^Authentication-Results:.*(\r\n[ \t].*)*/gim) ?? [];
    expect(fields).toHaveLength(2);
    expect(fields[0]).toMatch(/^Authentication-Results: mx\.sluice\.test;[^]*spf=fail/); // ours, on top
    expect(fields[1]).toBe('Authentication-Results: relay.example.net; spf=pass smtp.mailfrom=example.org');
    expect(stored).not.toMatch(/forged\)|dkim=pass header\.d|dmarc=pass/);
    expect(mail.headers).not.toMatch(/mx\.sluice\.test 1; dmarc=pass/);
    expect(mail.headers).toMatch(/relay\.example\.net/);
  });

  it('reads the authserv-id past comments and a version (RFC 8601 §2.2)', () => {
    expect(authservId(' (c) Example.COM (x) 1; spf=pass')).toBe('example.com');
    expect(authservId('example.com;none')).toBe('example.com');
    expect(authservId('')).toBe('');
  });

  it('leaves mail that did not come over SMTP as it is', async () => {
    const raw = message('my own draft', 'append');
    const { mail, stored } = await run(raw, { source: 'imap', remoteAddress: '192.0.2.7' }, scan(false));
    expect(stored).toBe(raw);
    expect(mail.received.mailbox).toBe('INBOX');
  });
});

describe('spam stage: rspamd', () => {
  it('junks GTUBE (rspamd says reject; it lands in Junk, never bounces)', async () => {
    const { mail, stored } = await run(await signed(message(GTUBE, 'gtube')), { remoteAddress: '127.0.0.1' }, scan(true));
    expect(mail.received.mailbox).toBe('Junk');
    expect(mail.received.flags).toContain(JUNK_KEYWORD);
    expect(stored).toMatch(/^X-Spam-Status: Yes, .*RSPAMD\(reject\)/m);
  });

  it('delivers a signed plain note to INBOX with rspamd on', async () => {
    const { mail } = await run(await signed(message('Shall we have lunch on Tuesday?', 'ham')), { remoteAddress: '127.0.0.1' }, scan(true));
    expect(mail.received.mailbox).toBe('INBOX');
  });

  it('throws RetryableError while rspamd is unreachable', async () => {
    await expect(run(message('x', 'down'), { remoteAddress: '127.0.0.1' }, scan(true, `http://127.0.0.1:${await freePort()}`))).rejects.toBeInstanceOf(RetryableError);
  });
});

describe('spam stage: built-in checks', () => {
  it('scores missing and doubled header fields (RFC 5322 §3.6)', () => {
    const base = { headers: 'From: a@x\r\nFrom: b@x\r\nSubject: s\r\n' } as ParsedMail;
    expect(headerFindings(base).map((f) => f.rule)).toEqual(['MULTIPLE_FROM', 'MISSING_DATE', 'MISSING_MESSAGE_ID']);
    expect(decide(headerFindings(base), null, DEFAULT_SPAM_POLICY)).toMatchObject({ spam: false, score: 4.5 });
    expect(decide([{ rule: 'X', score: 6 }], null, DEFAULT_SPAM_POLICY).spam).toBe(true);
  });
});
