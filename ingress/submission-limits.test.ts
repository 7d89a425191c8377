/**
 * Per-user submission rate limits: the counter on its own, the config keys, and the listener over
 * real sockets with Python's smtplib (a client nobody here wrote) running into the limit: past it
 * MAIL FROM or RCPT TO get `451 4.7.1` (RFC 5321 §4.2.5, RFC 3463), nothing refused reaches the
 * log, and another user is not affected.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { FsBlobStore } from '../connectors/blob/fs.ts';
import { SqliteMailStore } from '../connectors/store/sqlite.ts';
import { PasswordAuthenticator } from '../access/auth/password-authenticator.ts';
import { LoginLimiter } from '../access/auth/login-limiter.ts';
import { hashPassword } from '../ops/password.ts';
import { loadConfig } from '../ops/config.ts';
import { schemaType } from '../schemas/registry.ts';
import type { MailReceived } from '../schemas/types.ts';
import { ensureTlsCertificate } from './tls.ts';
import { createSubmissionServer, type SubmissionServer } from './submission.ts';
import { SubmissionLimits } from './submission-limits.ts';
import { SmtpError } from './smtp-errors.ts';

const DOMAIN = 'example.test';
const PASSWORD = 'a-good-password';

async function refusal(p: Promise<unknown>): Promise<SmtpError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(SmtpError);
  return err as SmtpError;
}

describe('SubmissionLimits', () => {
  it('refuses the message past the limit with 451 4.7.1 and counts nothing for the refusal', async () => {
    const limits = new SubmissionLimits({ messages: 2, recipients: 0, windowMs: 3_600_000 });
    await limits.checkMessage('a');
    await limits.charge('a', 1);
    await limits.charge('a', 1);
    const atMail = await refusal(limits.checkMessage('a'));
    expect([atMail.code, atMail.enhanced]).toEqual([451, '4.7.1']);
    expect(atMail.text).toMatch(/at most 2 messages per hour; try again in \d+ minutes?/);
    const atData = await refusal(limits.charge('a', 1));
    expect([atData.code, atData.enhanced]).toEqual([451, '4.7.1']);
    await limits.checkMessage('b'); // per user
    // A refund gives the message back.
    await limits.refund('a', 1);
    await limits.charge('a', 1);
    await refusal(limits.charge('a', 1));
  });

  it('counts recipients over messages; a refused charge takes neither', async () => {
    const limits = new SubmissionLimits({ messages: 10, recipients: 5, windowMs: 3_600_000 });
    await limits.charge('a', 3);
    await limits.checkRecipient('a', 0);
    await limits.checkRecipient('a', 1);
    const rcpt = await refusal(limits.checkRecipient('a', 2));
    expect([rcpt.code, rcpt.enhanced]).toEqual([451, '4.7.1']);
    expect(rcpt.text).toMatch(/at most 5 recipients per hour/);
    await refusal(limits.charge('a', 3)); // 3 + 3 > 5: the message is not counted either
    await limits.charge('a', 2);
    for (let i = 0; i < 5; i++) await limits.checkMessage('a'); // 2 of 10 messages used
    await refusal(limits.charge('a', 1));
  });

  it('starts over after the window; 0 turns a limit off', async () => {
    const limits = new SubmissionLimits({ messages: 1, recipients: 0, windowMs: 1000 });
    await limits.charge('a', 500);
    await refusal(limits.checkMessage('a'));
    await new Promise((r) => setTimeout(r, 1100));
    await limits.checkMessage('a');
    await limits.charge('a', 1);
    const off = new SubmissionLimits({ messages: 0, recipients: 0, windowMs: 1000 });
    for (let i = 0; i < 1000; i++) await off.charge('a', 100);
  });

  it('is configured by submission.rateLimit.* and SLUICE_SUBMISSION_RATE_LIMIT_*', () => {
    expect(loadConfig({ env: {} }).submission.rateLimit).toEqual({ messages: 500, recipients: 2000, window: 3_600_000 });
    const config = loadConfig({ env: { SLUICE_SUBMISSION_RATE_LIMIT_MESSAGES: '3', SLUICE_SUBMISSION_RATE_LIMIT_RECIPIENTS: '0', SLUICE_SUBMISSION_RATE_LIMIT_WINDOW: '10m' } });
    expect(config.submission.rateLimit).toEqual({ messages: 3, recipients: 0, window: 600_000 });
    expect(() => loadConfig({ env: { SLUICE_SUBMISSION_RATE_LIMIT_WINDOW: '10ms' } })).toThrow(/submission\.rateLimit\.window/);
  });
});

/** Python's smtplib: STARTTLS, AUTH, then each message given as `rcpt1,rcpt2:subject`; one JSON line per message. */
const SMTPLIB = `
import json, smtplib, ssl, sys
port, cafile, user, password = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=cafile)
s = smtplib.SMTP('127.0.0.1', int(port), timeout=30)
s.ehlo('python.client')
s.starttls(context=ctx)
s.ehlo('python.client')
s.login(user, password)
def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)
for spec in sys.argv[5:]:
    rcpts, subject = spec.split(':')
    rcpts = rcpts.split(',')
    msg = f"From: <{user}>\\r\\nTo: {', '.join(rcpts)}\\r\\nSubject: {subject}\\r\\nMessage-ID: <{subject}@python.client>\\r\\n\\r\\nHello.\\r\\n"
    try:
        refused = s.sendmail(user, rcpts, msg)
        print(json.dumps({"subject": subject, "ok": True, "refused": {r: [c, text(m)] for r, (c, m) in refused.items()}}))
    except smtplib.SMTPRecipientsRefused as e:
        print(json.dumps({"subject": subject, "ok": False, "stage": "rcpt", "refused": {r: [c, text(m)] for r, (c, m) in e.recipients.items()}}))
        s.rset()
    except smtplib.SMTPSenderRefused as e:
        print(json.dumps({"subject": subject, "ok": False, "stage": "mail", "code": e.smtp_code, "error": text(e.smtp_error)}))
        s.rset()
s.quit()
`;

interface Outcome {
  subject: string;
  ok: boolean;
  stage?: 'mail' | 'rcpt';
  code?: number;
  error?: string;
  refused?: Record<string, [number, string]>;
}

function smtplib(port: number, cafile: string, user: string, messages: readonly string[]): Promise<Outcome[]> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', SMTPLIB, String(port), cafile, user, PASSWORD, ...messages], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`smtplib client failed: ${err.message}\n${stderr}`));
      resolve(stdout.trim().split('\n').map((l) => JSON.parse(l) as Outcome));
    });
  });
}

describe('submission listener over real sockets: rate limits', () => {
  const receivedType = schemaType('MailReceived');
  const outboundType = schemaType('MailOutbound');
  let dir: string;
  let log: EmbeddedLog;
  let blobs: FsBlobStore;
  let store: SqliteMailStore;
  let server: SubmissionServer;
  let port: number;
  let cafile: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-sublimit-'));
    log = new EmbeddedLog({ path: path.join(dir, 'log.sqlite'), lingerMs: 1 });
    blobs = new FsBlobStore({ dir: path.join(dir, 'blobs') });
    store = new SqliteMailStore({ path: path.join(dir, 'store.sqlite') });
    await log.ensureTopics([{ name: 'mail.received', partitions: 1 }, { name: 'mail.outbound', partitions: 1 }]);
    await store.addDomain(DOMAIN);
    const hash = await hashPassword(PASSWORD);
    for (const u of ['alice', 'bob', 'carol']) await store.addUser(`${u}@${DOMAIN}`, hash);
    const tls = ensureTlsCertificate(dir, 'localhost');
    cafile = path.join(dir, 'ca.pem');
    fs.writeFileSync(cafile, tls.cert);
    server = createSubmissionServer({
      log,
      blobs,
      store,
      authenticator: new PasswordAuthenticator({ store, logger: pino({ level: 'silent' }), limiter: new LoginLimiter({ freeFailures: 1000 }) }),
      logger: pino({ level: 'silent' }),
      hostname: 'submit.example.test',
      tls,
      closeTimeoutMs: 200,
      limits: new SubmissionLimits({ messages: 3, recipients: 5, windowMs: 3_600_000 }),
      encodeReceived: (v) => receivedType.toBuffer(v),
      encodeOutbound: (v) => outboundType.toBuffer(v),
    });
    port = (await server.listen(0, '127.0.0.1', false)).port;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await Promise.allSettled([log?.close(), blobs?.close(), store?.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Subjects of the Sent copies on the log, i.e. the messages accepted from `user`. */
  async function sentBy(user: string): Promise<string[]> {
    const out: string[] = [];
    for (const r of await log.read('mail.received', 0, 0, 10_000)) {
      const v = receivedType.fromBuffer(r.value) as MailReceived;
      if (v.userId === user && v.mailbox === 'Sent') out.push(/^Subject: (.*)$/m.exec((await blobs.get(v.rawBlob)).toString('utf8'))![1].trim());
    }
    return out;
  }

  it('past the messages limit MAIL FROM gets 451 4.7.1; another user still sends', async () => {
    const alice = `alice@${DOMAIN}`;
    const outcomes = await smtplib(port, cafile, alice, ['bob@example.test:m1', 'bob@example.test:m2', 'x@remote.example:m3', 'bob@example.test:m4']);
    expect(outcomes.slice(0, 3).map((o) => o.ok)).toEqual([true, true, true]);
    expect(outcomes[3]).toMatchObject({ ok: false, stage: 'mail', code: 451 });
    expect(outcomes[3].error).toMatch(/^4\.7\.1 Sending rate limit reached: at most 3 messages per hour/);
    expect(await sentBy(alice)).toEqual(['m1', 'm2', 'm3']);
    // A new connection of the same user is refused too; bob is not.
    expect(await smtplib(port, cafile, alice, ['bob@example.test:m5'])).toMatchObject([{ ok: false, stage: 'mail', code: 451 }]);
    expect(await smtplib(port, cafile, `bob@${DOMAIN}`, ['alice@example.test:b1'])).toMatchObject([{ ok: true }]);
  }, 60_000);

  it('past the recipients limit RCPT TO gets 451 4.7.1; the recipients within it are sent', async () => {
    const carol = `carol@${DOMAIN}`;
    const outcomes = await smtplib(port, cafile, carol, [
      'alice@example.test,bob@example.test,y@remote.example:c1', // 3 of 5
      'alice@example.test,bob@example.test,z@remote.example:c2', // the 6th recipient is refused
      'z@remote.example:c3',
    ]);
    expect(outcomes[0]).toEqual({ subject: 'c1', ok: true, refused: {} });
    expect(outcomes[1].ok).toBe(true);
    expect(Object.keys(outcomes[1].refused!)).toEqual(['z@remote.example']);
    expect(outcomes[1].refused!['z@remote.example'][0]).toBe(451);
    expect(outcomes[1].refused!['z@remote.example'][1]).toMatch(/^4\.7\.1 .*at most 5 recipients per hour/);
    expect(outcomes[2]).toMatchObject({ ok: false, stage: 'rcpt' });
    expect(outcomes[2].refused!['z@remote.example'][0]).toBe(451);
    expect(await sentBy(carol)).toEqual(['c1', 'c2']);
    // c2 went to its two local recipients only: nothing for remote.example on mail.outbound.
    const outbound = (await log.read('mail.outbound', 0, 0, 10_000)).map((r) => outboundType.fromBuffer(r.value) as { userId: string; recipients: string[] });
    expect(outbound.filter((o) => o.userId === carol).map((o) => o.recipients)).toEqual([['y@remote.example']]);
  }, 60_000);
});
