/**
 * The sending flow end to end, against `sluice serve` as a child process: clients nobody here
 * wrote (Python's smtplib with AUTH over STARTTLS, swaks, nodemailer over implicit TLS) submit
 * mail to local users; each message lands in the recipient's INBOX and the sender's Sent (`\Seen`)
 * and never on `mail.outbound`. Mail to a remote domain lands on `mail.outbound`, keyed by its
 * domain. Refusals: no AUTH, AUTH before STARTTLS, a foreign From:, an open relay on the MX port.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { schemaType } from '../schemas/registry.ts';
import type { MailOutbound } from '../schemas/types.ts';
import type { StoredMessage } from '../connectors/store/store.ts';
import { provision, startSluice, tempDir, waitFor, type RunningSluice } from './harness/server.ts';
import { allMessages, openStoreOf } from './harness/inspect.ts';

const DOMAIN = 'sluice.test';
const ALICE = `alice@${DOMAIN}`;
const BOB = `bob@${DOMAIN}`;
const PASSWORD = 'secret';

function run(cmd: string, args: readonly string[], stdin?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error(`${cmd} is not installed`));
      resolve({ code, out: stdout + stderr });
    });
    child.stdin?.end(stdin ?? '');
  });
}

/** Python's smtplib: STARTTLS (verifying our certificate), AUTH, one message; prints the outcome as JSON. */
const SMTPLIB = `
import json, smtplib, ssl, sys
port, cafile, user, password, sender, rcpt, subject = sys.argv[1:8]
ctx = ssl.create_default_context(cafile=cafile)
s = smtplib.SMTP('127.0.0.1', int(port), timeout=30)
s.ehlo('python.client')
s.starttls(context=ctx)
s.ehlo('python.client')
s.login(user, password)
msg = f"From: <{sender}>\\r\\nTo: <{rcpt}>\\r\\nSubject: {subject}\\r\\nMessage-ID: <{subject}@python.client>\\r\\n\\r\\nHello from smtplib.\\r\\n"
try:
    s.sendmail(user, [rcpt], msg)
    print(json.dumps({"ok": True}))
except smtplib.SMTPException as e:
    print(json.dumps({"ok": False, "code": getattr(e, "smtp_code", None), "error": (lambda v: v.decode() if isinstance(v, bytes) else str(v))(getattr(e, "smtp_error", e))}))
s.quit()
`;

describe('sending: submission to local users, routing, refusals', () => {
  let dataDir: string;
  let server: RunningSluice;
  let cafile: string;

  beforeAll(async () => {
    dataDir = tempDir();
    await provision(dataDir, DOMAIN, [ALICE, BOB], PASSWORD);
    server = await startSluice({ dataDir });
    cafile = join(dataDir, 'tls', 'cert.pem');
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  async function stored(): Promise<StoredMessage[]> {
    const store = openStoreOf(dataDir);
    try {
      return await allMessages(store, [ALICE, BOB]);
    } finally {
      await store.close();
    }
  }

  /** Waits until the message with this Message-ID is in `user`'s INBOX and the sender's Sent. */
  async function expectDelivered(messageId: string, sender: string, recipient: string): Promise<void> {
    const copies = await waitFor(`${messageId} stored twice`, async () => {
      const found = (await stored()).filter((m) => m.messageId === messageId);
      return found.length >= 2 && found;
    }, 30_000);
    expect(copies.map((m) => `${m.userId}/${m.mailbox}`).sort()).toEqual([`${recipient}/INBOX`, `${sender}/Sent`].sort());
    expect(copies.find((m) => m.mailbox === 'Sent')!.flags).toContain('\\Seen');
    expect(copies.find((m) => m.mailbox === 'INBOX')!.flags).not.toContain('\\Seen');
  }

  it('Python smtplib, AUTH over STARTTLS: alice → bob', async () => {
    const r = await run('python3', ['-c', SMTPLIB, String(server.submissionPort), cafile, ALICE, PASSWORD, ALICE, BOB, 'py1']);
    expect(JSON.parse(r.out.trim()), r.out).toEqual({ ok: true });
    await expectDelivered('<py1@python.client>', ALICE, BOB);
  }, 60_000);

  it('swaks, AUTH LOGIN over STARTTLS: bob → alice', async () => {
    const r = await run('swaks', [
      '--server', '127.0.0.1', '--port', String(server.submissionPort), '--tls',
      '--auth', 'LOGIN', '--auth-user', BOB, '--auth-password', PASSWORD,
      '--from', BOB, '--to', ALICE, '--h-From', `<${BOB}>`, '--header', 'Message-Id: <swaks1@swaks.client>', '--body', 'Hello from swaks.',
    ]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/<~ +250 2\.0\.0 Ok: queued as/);
    await expectDelivered('<swaks1@swaks.client>', BOB, ALICE);
  }, 60_000);

  it('nodemailer over implicit TLS (465): alice → alice herself', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: server.submissionsPort, secure: true,
      auth: { user: ALICE, pass: PASSWORD }, tls: { ca: readFileSync(cafile, 'utf8') },
    });
    await transport.sendMail({ from: ALICE, to: ALICE, subject: 'self', text: 'Hello me.', messageId: '<nm1@nodemailer.client>' });
    transport.close();
    await expectDelivered('<nm1@nodemailer.client>', ALICE, ALICE);
  }, 60_000);

  it('remote recipients go to mail.outbound (key: the domain), not to any mailbox', async () => {
    const r = await run('python3', ['-c', SMTPLIB, String(server.submissionPort), cafile, ALICE, PASSWORD, ALICE, 'carol@remote.example', 'remote1']);
    expect(JSON.parse(r.out.trim()), r.out).toEqual({ ok: true });
    // Only the Sent copy is stored.
    const copies = await waitFor('Sent copy stored', async () => {
      const found = (await stored()).filter((m) => m.messageId === '<remote1@python.client>');
      return found.length >= 1 && found;
    }, 30_000);
    expect(copies.map((m) => `${m.userId}/${m.mailbox}`)).toEqual([`${ALICE}/Sent`]);
  }, 60_000);

  it('refuses MAIL without AUTH (530 5.7.0) and AUTH before STARTTLS (538 5.7.11)', async () => {
    const noAuth = await run('swaks', ['--server', '127.0.0.1', '--port', String(server.submissionPort), '--tls', '--from', ALICE, '--to', BOB]);
    expect(noAuth.code).not.toBe(0);
    expect(noAuth.out).toMatch(/<[~*]\* 530 5\.7\.0 Authentication required/);
    const clearAuth = await run('swaks', ['--server', '127.0.0.1', '--port', String(server.submissionPort), '--auth', 'PLAIN', '--auth-user', ALICE, '--auth-password', PASSWORD, '--from', ALICE, '--to', BOB]);
    expect(clearAuth.code).not.toBe(0);
    expect(clearAuth.out).toMatch(/<[~*]\* 538 5\.7\.11 /);
  }, 60_000);

  it('refuses a From: that is not the user\'s with 553 5.7.1', async () => {
    const r = await run('python3', ['-c', SMTPLIB, String(server.submissionPort), cafile, ALICE, PASSWORD, BOB, BOB, 'forged1']);
    expect(JSON.parse(r.out.trim())).toMatchObject({ ok: false, code: 553, error: expect.stringMatching(/^5\.7\.1 /) });
  }, 60_000);

  it('the MX port is no open relay: foreign → foreign without AUTH is refused (554 5.7.1)', async () => {
    const r = await run('swaks', ['--server', '127.0.0.1', '--port', String(server.smtpPort), '--from', 'spammer@foreign.example', '--to', 'victim@elsewhere.example']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/<[~*]\* 554 5\.7\.1 Relay access denied/);
  }, 60_000);

  it('after all that, mail.outbound holds exactly the one remote message, and no forged one was stored', async () => {
    expect((await stored()).filter((m) => m.messageId === '<forged1@python.client>')).toEqual([]);
    await server.stop();
    const log = new EmbeddedLog({ path: join(dataDir, 'log.db') });
    try {
      const type = schemaType('MailOutbound');
      const records: { key: string; value: MailOutbound }[] = [];
      for (let p = 0; p < 4; p++) for (const r of await log.read('mail.outbound', p, 0, 1000)) records.push({ key: r.key, value: type.fromBuffer(r.value) as MailOutbound });
      expect(records).toEqual([{ key: 'remote.example', value: expect.objectContaining({ domain: 'remote.example', recipients: ['carol@remote.example'], userId: ALICE }) }]);
    } finally {
      await log.close();
    }
  }, 60_000);
});
