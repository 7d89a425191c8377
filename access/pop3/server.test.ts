// Wire-level scenarios of the POP3 server over real sockets (RFC 1939, RFC 2449, RFC 2595, RFC 5034).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginLimiter } from '../auth/login-limiter.ts';
import { startAccessTestEnv, type AccessTestEnv } from '../test-kit.ts';
import { login, PASSWORD, Pop3TestClient, startPop3Harness, testMessage, type Pop3Harness } from './pop3-test-kit.ts';

const plainB64 = (authzid: string, user: string, password: string) => Buffer.from(`${authzid}\0${user}\0${password}`).toString('base64');

let env: AccessTestEnv;
/** allowPlaintextAuth: false (the default). */
let strict: Pop3Harness;
/** allowPlaintextAuth: true, short line limit. */
let lenient: Pop3Harness;
/** allowPlaintextAuth: true, a short idle timeout. */
let idle: Pop3Harness;

beforeAll(async () => {
  env = await startAccessTestEnv();
  strict = await startPop3Harness({ env });
  lenient = await startPop3Harness({ env, allowPlaintextAuth: true, maxLineLength: 300 });
  idle = await startPop3Harness({ env, allowPlaintextAuth: true, idleTimeoutMs: 500 });
  await env.addUser('tls@example.test', PASSWORD);
});

afterAll(async () => {
  await strict?.close();
  await lenient?.close();
  await idle?.close();
  await env?.close();
});

let userCount = 0;
/** A fresh user with these messages in INBOX. */
async function userWith(messages: string[]): Promise<string> {
  const address = `user${++userCount}@example.test`;
  await env.addUser(address, PASSWORD);
  if (messages.length > 0) await env.deliverMany(address, messages);
  return address;
}

async function connect(harness: Pop3Harness, options: { tls?: boolean } = {}): Promise<Pop3TestClient> {
  const client = await Pop3TestClient.connect(options.tls ? harness.tlsPort : harness.port, options);
  expect(await client.expectLine()).toMatch(/^\+OK /); // RFC 1939 §4 greeting
  return client;
}

describe('AUTHORIZATION before TLS (RFC 2595 §4)', () => {
  it('offers STLS and refuses USER, PASS and AUTH with [AUTH] when plaintext is not allowed', async () => {
    const client = await connect(strict);
    const capa = await client.multi('CAPA');
    expect(capa.status).toMatch(/^\+OK/);
    expect(capa.lines).toEqual(expect.arrayContaining(['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'STLS']));
    expect(capa.lines).not.toContain('USER');
    expect(capa.lines.some((l) => l.startsWith('SASL'))).toBe(false);
    expect(await client.command('USER tls@example.test')).toMatch(/^-ERR \[AUTH\] /);
    expect(await client.command(`PASS ${PASSWORD}`)).toMatch(/^-ERR \[AUTH\] /);
    expect(await client.command(`AUTH PLAIN ${plainB64('', 'tls@example.test', PASSWORD)}`)).toMatch(/^-ERR \[AUTH\] /);
    client.close();
  });

  it('STLS, then CAPA without STLS and with USER and SASL PLAIN, then USER/PASS', async () => {
    const client = await connect(strict);
    expect(await client.startTls()).toMatch(/^\+OK/);
    expect(client.secure).toBe(true);
    const capa = await client.multi('CAPA');
    expect(capa.lines).toEqual(expect.arrayContaining(['USER', 'SASL PLAIN', 'TOP', 'UIDL']));
    expect(capa.lines).not.toContain('STLS');
    expect(await client.command('STLS')).toMatch(/^-ERR/); // RFC 2595 §4: only once
    expect(await login(client, 'tls@example.test')).toMatch(/^\+OK/);
    expect(await client.command('STAT')).toBe('+OK 0 0');
    expect(await client.command('QUIT')).toMatch(/^\+OK/);
    await client.closed();
  });

  it('discards commands pipelined after STLS in the clear (CVE-2011-0411)', async () => {
    const client = await connect(strict);
    expect(await client.startTls('CAPA\r\nQUIT\r\n')).toMatch(/^\+OK/);
    // The injected CAPA and QUIT must not run: the first reply on TLS answers our USER.
    expect(await client.command('USER tls@example.test')).toMatch(/^\+OK/);
    client.close();
  });

  it('serves implicit TLS (pop3s) with AUTH PLAIN and an initial response (RFC 5034 §4)', async () => {
    const client = await connect(strict, { tls: true });
    const capa = await client.multi('CAPA');
    expect(capa.lines).toContain('SASL PLAIN');
    expect(capa.lines).not.toContain('STLS');
    expect(await client.command(`AUTH PLAIN ${plainB64('', 'tls@example.test', PASSWORD)}`)).toMatch(/^\+OK/);
    expect(await client.command('NOOP')).toBe('+OK');
    client.close();
  });

  it('AUTH PLAIN with a continuation, a cancel, a wrong password and a foreign authzid', async () => {
    const client = await connect(strict, { tls: true });
    expect(await client.command('AUTH PLAIN')).toBe('+ ');
    expect(await client.command('*')).toMatch(/^-ERR/); // RFC 5034 §4: cancelled
    expect(await client.command('AUTH PLAIN')).toBe('+ ');
    expect(await client.command(plainB64('', 'tls@example.test', 'wrong'))).toMatch(/^-ERR \[AUTH\] /);
    expect(await client.command(`AUTH PLAIN ${plainB64('other@example.test', 'tls@example.test', PASSWORD)}`)).toMatch(/^-ERR \[AUTH\] /);
    expect(await client.command('AUTH PLAIN !!notbase64')).toMatch(/^-ERR \[AUTH\] /);
    expect(await client.command('AUTH CRAM-MD5')).toMatch(/^-ERR/);
    const mechanisms = await client.multi('AUTH');
    expect(mechanisms.lines).toEqual(['PLAIN']);
    expect(await client.command('AUTH PLAIN')).toBe('+ ');
    expect(await client.command(plainB64('tls@example.test', 'tls@example.test', PASSWORD))).toMatch(/^\+OK/);
    expect(await client.command('STAT')).toBe('+OK 0 0');
    client.close();
  });

  it('refuses a wrong password with [AUTH] and wants USER again after it (RFC 1939 §7)', async () => {
    const client = await connect(lenient);
    expect(await login(client, 'tls@example.test', 'nope')).toMatch(/^-ERR \[AUTH\] /);
    expect(await client.command(`PASS ${PASSWORD}`)).toMatch(/^-ERR/);
    expect(await login(client, 'nobody@example.test')).toMatch(/^-ERR \[AUTH\] /);
    expect(await login(client, 'TLS@example.test')).toMatch(/^\+OK/);
    client.close();
  });
});

describe('TRANSACTION and UPDATE (RFC 1939 §5-7)', () => {
  const dotted = testMessage('dots', 'first line\r\n.leading dot\r\n..two dots\r\n.\r\nlast line\r\n');

  it('STAT, LIST, UIDL, RETR with dot-stuffing, TOP, sizes as sent', async () => {
    const address = await userWith([testMessage('one', 'hello\r\n'), dotted, testMessage('three', 'a\r\nb\r\nc\r\nd\r\n')]);
    const client = await connect(lenient);
    expect(await login(client, address)).toMatch(/^\+OK .*3 messages/);
    const stat = /^\+OK (\d+) (\d+)$/.exec(await client.command('STAT'));
    expect(stat?.[1]).toBe('3');
    const list = await client.multi('LIST');
    expect(list.lines.map((l) => l.split(' ')[0])).toEqual(['1', '2', '3']);
    const sizes = list.lines.map((l) => Number(l.split(' ')[1]));
    expect(sizes.reduce((a, b) => a + b)).toBe(Number(stat?.[2]));
    expect(await client.command('LIST 2')).toBe(`+OK 2 ${sizes[1]}`);
    expect(await client.command('LIST 4')).toMatch(/^-ERR/);
    expect(await client.command('LIST 0')).toMatch(/^-ERR/);

    // RFC 1939 §3: the raw data lines of message 2 are stuffed on the wire.
    expect(await client.command('RETR 2')).toBe(`+OK ${sizes[1]} octets`);
    const wire = await client.readMulti();
    expect(wire).toEqual(expect.arrayContaining(['..leading dot', '...two dots', '..']));
    const unstuffed = wire.map((l) => (l.startsWith('.') ? l.slice(1) : l));
    expect(unstuffed.slice(-5)).toEqual(['first line', '.leading dot', '..two dots', '.', 'last line']);
    // RFC 1939 §5 LIST: the exact size of the message as sent, CRLF line ends counted.
    expect(unstuffed.reduce((n, l) => n + Buffer.byteLength(l) + 2, 0)).toBe(sizes[1]);

    const uidl = await client.multi('UIDL');
    expect(uidl.lines).toHaveLength(3);
    const ids = uidl.lines.map((l) => l.split(' ')[1]);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[\x21-\x7e]{1,70}$/);
    expect(await client.command('UIDL 3')).toBe(`+OK 3 ${ids[2]}`);

    // RFC 1939 §7 TOP: header, blank line, n body lines.
    const top0 = await client.multi('TOP 3 0');
    expect(top0.lines.at(-1)).toBe('');
    expect(top0.lines).toContain('Subject: three');
    const top2 = await client.multi('TOP 3 2');
    expect(top2.lines.slice(-3)).toEqual(['', 'a', 'b']);
    const top99 = await client.multi('TOP 3 99');
    expect(top99.lines.slice(-5)).toEqual(['', 'a', 'b', 'c', 'd']);
    expect(await client.command('TOP 3')).toMatch(/^-ERR/);
    expect(await client.command('TOP 3 x')).toMatch(/^-ERR/);
    client.close();
  });

  it('sends a 2 MB message whole, stuffed, with the size LIST announced', async () => {
    const body = Array.from({ length: 40_000 }, (_, i) => (i % 3 === 0 ? `.line ${i} ${'x'.repeat(40)}` : `line ${i} ${'y'.repeat(40)}`)).join('\r\n');
    const address = await userWith([testMessage('big', `${body}\r\n`)]);
    const client = await connect(lenient);
    await login(client, address);
    const size = Number((await client.command('LIST 1')).split(' ')[2]);
    expect(size).toBeGreaterThan(2_000_000);
    const retr = await client.multi('RETR 1');
    expect(retr.status).toBe(`+OK ${size} octets`);
    expect(retr.lines.reduce((n, l) => n + Buffer.byteLength(l) + 2, 0)).toBe(size);
    expect(retr.lines.at(-1)).toBe(`.line 39999 ${'x'.repeat(40)}`); // 39999 % 3 === 0: a stuffed line
    expect(await client.command('NOOP')).toBe('+OK');
    client.close();
  });

  it('DELE marks, RSET unmarks, QUIT expunges after the store applied it, RETR marks \\Seen', async () => {
    const address = await userWith([testMessage('a', 'A\r\n'), testMessage('b', 'B\r\n'), testMessage('c', 'C\r\n')]);
    const client = await connect(lenient);
    await login(client, address);
    expect(await client.command('DELE 1')).toMatch(/^\+OK/);
    expect(await client.command('DELE 1')).toMatch(/^-ERR/);
    expect(await client.command('RETR 1')).toMatch(/^-ERR/);
    expect(await client.command('LIST 1')).toMatch(/^-ERR/);
    expect(await client.command('STAT')).toMatch(/^\+OK 2 /);
    expect((await client.multi('LIST')).lines.map((l) => l.split(' ')[0])).toEqual(['2', '3']);
    expect(await client.command('RSET')).toMatch(/^\+OK .*3 messages/);
    expect(await client.command('STAT')).toMatch(/^\+OK 3 /);
    expect(await client.command('DELE 2')).toMatch(/^\+OK/);
    expect((await client.multi('RETR 3')).status).toMatch(/^\+OK/);
    expect(await client.command('QUIT')).toMatch(/^\+OK/);
    await client.closed();
    const inbox = await env.store.mailbox(address.toLowerCase(), 'INBOX');
    const left = await env.store.messages(inbox!.id);
    expect(left.map((m) => m.subject)).toEqual(['a', 'c']);
    expect(left.find((m) => m.subject === 'c')?.flags).toContain('\\Seen');
    expect(left.find((m) => m.subject === 'a')?.flags).not.toContain('\\Seen');
  });

  it('a dropped connection deletes nothing (RFC 1939 §6: no UPDATE state without QUIT)', async () => {
    const address = await userWith([testMessage('keep', 'K\r\n')]);
    const client = await connect(lenient);
    await login(client, address);
    expect(await client.command('DELE 1')).toMatch(/^\+OK/);
    client.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await connect(lenient);
    expect(await login(again, address)).toMatch(/^\+OK/);
    expect(await again.command('STAT')).toMatch(/^\+OK 1 /);
    again.close();
  });

  it('keeps DELE\'d mail, marked \\Seen, when the user has pop3KeepMail', async () => {
    const address = await userWith([testMessage('k1', '1\r\n'), testMessage('k2', '2\r\n')]);
    await env.store.updateUser(address, { pop3KeepMail: true });
    const client = await connect(lenient);
    await login(client, address);
    expect(await client.command('DELE 1')).toMatch(/^\+OK/);
    expect(await client.command('QUIT')).toMatch(/^\+OK/);
    await client.closed();
    const inbox = await env.store.mailbox(address, 'INBOX');
    const left = await env.store.messages(inbox!.id);
    expect(left.map((m) => m.subject)).toEqual(['k1', 'k2']);
    expect(left[0].flags).toContain('\\Seen');
    expect(left[0].flags).not.toContain('\\Deleted');
    expect(left[1].flags).not.toContain('\\Seen');
  });

  it('answers pipelined commands in order (RFC 2449 §6.6)', async () => {
    const address = await userWith([testMessage('p1', 'x\r\n'), testMessage('p2', 'y\r\n')]);
    const client = await connect(lenient);
    client.write(`USER ${address}\r\nPASS ${PASSWORD}\r\nSTAT\r\nLIST\r\nUIDL 2\r\nDELE 1\r\nNOOP\r\nSTAT\r\nFOO\r\nRSET\r\n`);
    expect(await client.expectLine()).toMatch(/^\+OK/);
    expect(await client.expectLine()).toMatch(/^\+OK/);
    expect(await client.expectLine()).toMatch(/^\+OK 2 \d+$/);
    expect(await client.expectLine()).toMatch(/^\+OK 2 messages/);
    expect(await client.readMulti()).toHaveLength(2);
    expect(await client.expectLine()).toMatch(/^\+OK 2 \S+$/);
    expect(await client.expectLine()).toMatch(/^\+OK/);
    expect(await client.expectLine()).toBe('+OK');
    expect(await client.expectLine()).toMatch(/^\+OK 1 \d+$/);
    expect(await client.expectLine()).toMatch(/^-ERR/);
    expect(await client.expectLine()).toMatch(/^\+OK/);
    client.close();
  });

  it('locks the maildrop against a second session with [IN-USE] until QUIT or close (RFC 1939 §8)', async () => {
    const address = await userWith([testMessage('l', 'L\r\n')]);
    const first = await connect(lenient);
    expect(await login(first, address)).toMatch(/^\+OK/);
    const second = await connect(strict, { tls: true });
    expect(await login(second, address)).toMatch(/^-ERR \[IN-USE\] /);
    expect(await first.command('QUIT')).toMatch(/^\+OK/);
    await first.closed();
    expect(await login(second, address)).toMatch(/^\+OK/);
    second.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const third = await connect(lenient);
    expect(await login(third, address)).toMatch(/^\+OK/);
    third.close();
  });
});

describe('bad input and timeouts', () => {
  it('answers -ERR to unknown commands, wrong states, bad arguments and over-long lines', async () => {
    const address = await userWith([testMessage('e', 'E\r\n')]);
    const client = await connect(lenient);
    expect(await client.command('FOO')).toMatch(/^-ERR/);
    expect(await client.command('')).toMatch(/^-ERR/);
    expect(await client.command('STAT')).toMatch(/^-ERR/);
    expect(await client.command('RETR 1')).toMatch(/^-ERR/);
    expect(await client.command('PASS x')).toMatch(/^-ERR/);
    expect(await client.command(`USER ${'x'.repeat(1000)}`)).toMatch(/^-ERR/);
    expect(await client.command('__proto__')).toMatch(/^-ERR/);
    await login(client, address);
    expect(await client.command('USER again')).toMatch(/^-ERR/);
    expect(await client.command('STLS')).toMatch(/^-ERR/);
    expect(await client.command('RETR')).toMatch(/^-ERR/);
    expect(await client.command('RETR 1 2')).toMatch(/^-ERR/);
    expect(await client.command('RETR abc')).toMatch(/^-ERR/);
    expect(await client.command('DELE 99999999999')).toMatch(/^-ERR/);
    expect(await client.command('STAT now')).toMatch(/^-ERR/);
    expect(await client.command('stat')).toMatch(/^\+OK 1 /); // keywords are case-insensitive
    client.close();
  });

  it('closes after too many bad commands', async () => {
    const client = await connect(lenient);
    client.write('BAD\r\n'.repeat(25));
    let errors = 0;
    for (let line = await client.line(); line !== null; line = await client.line()) if (line.startsWith('-ERR')) errors++;
    expect(errors).toBeGreaterThanOrEqual(20);
    expect(errors).toBeLessThan(25);
  });

  it('QUIT in AUTHORIZATION says goodbye and closes', async () => {
    const client = await connect(strict);
    expect(await client.command('QUIT')).toMatch(/^\+OK/);
    await client.closed();
  });

  it('logs out an idle session without the UPDATE state and releases the lock (RFC 1939 §3)', async () => {
    const address = await userWith([testMessage('t', 'T\r\n')]);
    const client = await connect(idle);
    await login(client, address);
    expect(await client.command('DELE 1')).toMatch(/^\+OK/);
    expect(await client.line(5_000)).toMatch(/^-ERR/);
    await client.closed();
    const again = await connect(lenient);
    expect(await login(again, address)).toMatch(/^\+OK/);
    expect(await again.command('STAT')).toMatch(/^\+OK 1 /);
    again.close();
  });

  it('does not count a slow login (the authenticator\'s brake) as idle time', async () => {
    const limiter = new LoginLimiter({ freeFailures: 1, baseDelayMs: 900, maxDelayMs: 900 });
    const slow = await startPop3Harness({ env, allowPlaintextAuth: true, idleTimeoutMs: 400, limiter });
    try {
      const address = await userWith([]);
      const client = await connect(slow);
      expect(await login(client, address, 'wrong')).toMatch(/^-ERR \[AUTH\] /);
      const started = Date.now();
      expect(await login(client, address)).toMatch(/^\+OK/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(800);
      client.close();
    } finally {
      await slow.close();
    }
  });
});
