/**
 * Python's imaplib — a client nobody on this team wrote — against the server over loopback:
 * STARTTLS, LOGIN, CAPABILITY, CREATE, LIST, APPEND, SELECT, STATUS, GETQUOTAROOT, LOGOUT, and
 * IMAP4_SSL on the implicit-TLS listener.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { PASSWORD, startImapTestEnv, type ImapTestEnv } from './imap-test-kit.ts';

const SCRIPT = String.raw`
import imaplib, json, ssl, sys
port, tls_port, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
out = {}
m = imaplib.IMAP4('127.0.0.1', port)
out['starttls'] = m.starttls(ssl_context=ctx)[0]
out['login'] = m.login('alice@example.test', password)[0]
out['caps'] = sorted(m.capabilities)
out['create'] = m.create('py/box')[0]
typ, data = m.list('""', 'py*')
out['list'] = [d.decode() for d in data]
msg = b'From: a@example.org\r\nSubject: from python\r\n\r\nbody\r\n'
typ, data = m.append('py/box', r'(\Seen)', imaplib.Time2Internaldate(1700000000), msg)
out['append'] = [typ, data[0].decode()]
typ, data = m.select('py/box')
out['select'] = [typ, data[0].decode()]
out['status'] = m.status('py/box', '(MESSAGES UNSEEN)')[1][0].decode()
out['quotaroot'] = [typ, [d.decode() for d in m.getquotaroot('INBOX')[1][0]]]
out['noop'] = m.noop()[0]
out['logout'] = m.logout()[0]
s = imaplib.IMAP4_SSL('127.0.0.1', tls_port, ssl_context=ctx)
out['ssl_login'] = s.login('bob@example.test', password)[0]
s.logout()
print(json.dumps(out))
`;

let t: ImapTestEnv;

beforeAll(async () => {
  t = await startImapTestEnv({ allowPlaintextAuth: false });
});

afterAll(async () => {
  await t.close();
});

function python(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`python3 exited ${code}: ${stderr}`))));
  });
}

describe('Python imaplib', () => {
  it('works through STARTTLS and implicit TLS', async () => {
    const out = JSON.parse(await python([String(t.port), String(t.tlsPort), PASSWORD]));
    expect(out.starttls).toBe('OK');
    expect(out.login).toBe('OK');
    expect(out.caps).toEqual(expect.arrayContaining(['IMAP4REV1', 'IDLE', 'UIDPLUS', 'AUTH=PLAIN']));
    expect(out.create).toBe('OK');
    expect(out.list).toEqual(['(\\HasChildren) "/" "py"', '(\\HasNoChildren) "/" "py/box"']);
    const box = (await t.env.store.mailbox('alice@example.test', 'py/box'))!;
    expect(out.append).toEqual(['OK', `[APPENDUID ${box.uidValidity} 1] APPEND completed`]);
    expect(out.select).toEqual(['OK', '1']);
    expect(out.status).toBe('"py/box" (MESSAGES 1 UNSEEN 0)');
    expect(out.quotaroot[1]).toEqual(['"INBOX"']);
    expect(out.noop).toBe('OK');
    expect(out.logout).toBe('BYE');
    expect(out.ssl_login).toBe('OK');
    const [stored] = await t.env.store.messages(box.id);
    expect(stored.receivedAt).toBe(1700000000 * 1000);
  });
});
