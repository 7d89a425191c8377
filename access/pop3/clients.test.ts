// POP3 clients nobody on this team wrote, over loopback (issue 3 "Must show"): Python's poplib,
// curl's POP3 URLs, and fetchmail draining a mailbox.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAccessTestEnv, type AccessTestEnv } from '../test-kit.ts';
import { PASSWORD, startPop3Harness, testMessage, type Pop3Harness } from './pop3-test-kit.ts';

const run = promisify(execFile);

let env: AccessTestEnv;
let pop3: Pop3Harness;

beforeAll(async () => {
  env = await startAccessTestEnv();
  pop3 = await startPop3Harness({ env });
});

afterAll(async () => {
  await pop3?.close();
  await env?.close();
});

let userCount = 0;
async function userWith(count: number, prefix: string): Promise<string> {
  const address = `${prefix}${++userCount}@example.test`;
  await env.addUser(address, PASSWORD);
  const messages = Array.from({ length: count }, (_, i) => testMessage(`${prefix} ${i + 1}`, `Body ${i + 1}\r\n.dot line ${i + 1}\r\n`));
  if (count > 0) await env.deliverMany(address, messages);
  return address;
}

async function inboxSubjects(address: string): Promise<string[]> {
  const inbox = await env.store.mailbox(address, 'INBOX');
  return (await env.store.messages(inbox!.id)).map((m) => m.subject);
}

/**
 * Python's poplib: STLS (or implicit TLS), USER/PASS, STAT, LIST, UIDL, RETR of each message,
 * DELE of each, QUIT. Prints what it saw as JSON.
 */
const POPLIB_SCRIPT = String.raw`
import json, poplib, ssl, sys
port, address, password, implicit = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == '1'
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if implicit:
    p = poplib.POP3_SSL('127.0.0.1', port, context=ctx, timeout=20)
else:
    p = poplib.POP3('127.0.0.1', port, timeout=20)
    p.stls(ctx)
caps = p.capa()
p.user(address)
p.pass_(password)
count, total = p.stat()
sizes = [int(l.split()[1]) for l in p.list()[1]]
uids = [l.split()[1].decode() for l in p.uidl()[1]]
subjects, size_ok, dot_ok = [], True, True
for n in range(1, count + 1):
    resp, lines, octets = p.retr(n)
    if sum(len(l) + 2 for l in lines) != sizes[n - 1]:
        size_ok = False
    subject = next(l.decode()[9:] for l in lines if l.startswith(b'Subject: '))
    subjects.append(subject)
    if ('.dot line ' + subject.split()[-1]).encode() not in lines:
        dot_ok = False
    p.dele(n)
quit = p.quit().decode()
print(json.dumps({'caps': sorted(caps.keys()), 'count': count, 'total': total, 'sizes': sizes, 'uids': uids,
                  'subjects': subjects, 'sizeOk': size_ok, 'dotOk': dot_ok, 'quit': quit}))
`;

interface PoplibResult {
  caps: string[];
  count: number;
  total: number;
  sizes: number[];
  uids: string[];
  subjects: string[];
  sizeOk: boolean;
  dotOk: boolean;
  quit: string;
}

async function poplibDrain(address: string, implicit: boolean): Promise<PoplibResult> {
  const port = implicit ? pop3.tlsPort : pop3.port;
  const { stdout } = await run('python3', ['-c', POPLIB_SCRIPT, String(port), address, PASSWORD, implicit ? '1' : '0'], { timeout: 60_000 });
  return JSON.parse(stdout) as PoplibResult;
}

describe('Python poplib', () => {
  it('drains a mailbox of 50 messages over STLS: RETR, DELE, QUIT, and the messages are gone', async () => {
    const address = await userWith(50, 'drain');
    const result = await poplibDrain(address, false);
    // CAPA after STLS: no STLS any more (RFC 2595 §4), USER and SASL now allowed.
    expect(result.caps).toEqual(expect.arrayContaining(['TOP', 'UIDL', 'USER', 'SASL', 'PIPELINING', 'RESP-CODES']));
    expect(result.caps).not.toContain('STLS');
    expect(result.count).toBe(50);
    expect(result.total).toBe(result.sizes.reduce((a, b) => a + b));
    expect(new Set(result.uids).size).toBe(50);
    expect(result.subjects).toEqual(Array.from({ length: 50 }, (_, i) => `drain ${i + 1}`));
    expect(result.sizeOk).toBe(true);
    expect(result.dotOk).toBe(true);
    expect(result.quit).toMatch(/^\+OK/);
    expect(await inboxSubjects(address)).toEqual([]);
  });

  it('keeps the mail, marked \\Seen, over implicit TLS when the user has pop3KeepMail', async () => {
    const address = await userWith(5, 'keep');
    await env.store.updateUser(address, { pop3KeepMail: true });
    const result = await poplibDrain(address, true);
    expect(result.count).toBe(5);
    expect(result.quit).toMatch(/^\+OK/);
    const inbox = await env.store.mailbox(address, 'INBOX');
    const left = await env.store.messages(inbox!.id);
    expect(left).toHaveLength(5);
    for (const message of left) expect(message.flags).toContain('\\Seen');
  });
});

describe('curl POP3 URLs', () => {
  it('retrieves message 1 over STLS and lists the maildrop over pop3s', async () => {
    const address = await userWith(3, 'curl');
    const credentials = `${address}:${PASSWORD}`;
    // --ssl-reqd: curl sends STLS (RFC 2595) and authenticates only on TLS.
    const retr = await run('curl', ['-s', '-S', '--ssl-reqd', '-k', '-u', credentials, `pop3://127.0.0.1:${pop3.port}/1`], { timeout: 30_000 });
    expect(retr.stdout).toContain('Subject: curl 1');
    expect(retr.stdout).toContain('\r\n.dot line 1\r\n'); // curl undoes the dot-stuffing
    const list = await run('curl', ['-s', '-S', '-k', '-u', credentials, `pop3s://127.0.0.1:${pop3.tlsPort}/`], { timeout: 30_000 });
    expect(list.stdout.trim().split(/\r?\n/).map((l) => l.split(' ')[0])).toEqual(['1', '2', '3']);
    // Nothing was deleted.
    expect(await inboxSubjects(address)).toHaveLength(3);
    // Without TLS, curl cannot log in: the server refuses plaintext credentials.
    const refused = await run('curl', ['-s', '-u', credentials, `pop3://127.0.0.1:${pop3.port}/1`], { timeout: 30_000 }).catch((err: { code: number }) => err);
    expect((refused as { code?: number }).code).toBeGreaterThan(0);
  });
});

describe('fetchmail', () => {
  it('drains a mailbox over STLS with the certificate checked, deleting what it fetched', async () => {
    const binary = await run('sh', ['-c', 'command -v fetchmail']).then((r) => r.stdout.trim(), () => '');
    if (!binary) {
      // Debian package `fetchmail`; CI installs it (.ci/run), so it must be there.
      if (process.env.CI) throw new Error('fetchmail is not installed: CI must install the Debian package "fetchmail"');
      console.warn('fetchmail is not installed (Debian package "fetchmail"): this test checked nothing');
      return;
    }
    const address = await userWith(20, 'fetch');
    const home = fs.mkdtempSync(path.join(env.dir, 'fetchmail-'));
    const out = path.join(home, 'out');
    fs.mkdirSync(out);
    const mda = path.join(home, 'deliver.sh');
    fs.writeFileSync(mda, `#!/bin/sh\ncat > "${out}/$(date +%s%N)-$$.eml"\n`, { mode: 0o755 });
    const rc = path.join(home, 'fetchmailrc');
    const cert = path.join(env.dir, 'tls', 'cert.pem');
    fs.writeFileSync(
      rc,
      [
        `poll localhost via 127.0.0.1 port ${pop3.port} protocol pop3 auth password`,
        `  user "${address}" there with password "${PASSWORD}" is "nobody" here`,
        `  sslproto tls1.2+ sslcertck sslcertfile "${cert}" sslcommonname localhost`,
        `  mda "${mda}"`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const result = await run(binary, ['-f', rc, '--nosyslog', '-N', '-v'], {
      timeout: 60_000,
      env: { ...process.env, HOME: home, FETCHMAILHOME: home },
    }).catch((err: { code: number; stdout: string; stderr: string }) => err);
    const detail = `${result.stdout}\n${result.stderr}`;
    expect((result as { code?: number }).code ?? 0, detail).toBe(0);
    expect(detail).toMatch(/STLS/);
    const files = fs.readdirSync(out);
    expect(files, detail).toHaveLength(20);
    const subjects = files.map((f) => /^Subject: (.*)$/m.exec(fs.readFileSync(path.join(out, f), 'utf8'))?.[1]?.trim()).sort();
    expect(subjects).toEqual(Array.from({ length: 20 }, (_, i) => `fetch ${i + 1}`).sort());
    expect(await inboxSubjects(address)).toEqual([]);
  });
});
