/**
 * The IMAP listener over real sockets: greeting and CAPABILITY (RFC 9051 §7.2.2), STARTTLS and
 * LOGINDISABLED (§6.2.1, §6.2.3), implicit TLS, LOGIN and AUTHENTICATE PLAIN with SASL-IR
 * (RFC 4959), the login brake, autologout (§5.4), limits, COMPRESS=DEFLATE (RFC 4978).
 */
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { LoginLimiter } from '../auth/login-limiter.ts';
import { PasswordAuthenticator } from '../auth/password-authenticator.ts';
import { createImapServer, type ImapServer } from './server.ts';
import { ensureTlsCertificate } from '../../ingress/tls.ts';
import { PASSWORD, startImapTestEnv, TestClient, loggedIn, type ImapTestEnv } from './imap-test-kit.ts';

let t: ImapTestEnv;
/** A second server on the same pipeline: no plaintext auth, short timeouts, a strict brake. */
let strict: ImapServer;
let strictPort: number;

const plain = (user: string, password: string, authzid = '') => Buffer.from(`${authzid}\0${user}\0${password}`).toString('base64');

beforeAll(async () => {
  t = await startImapTestEnv({ maxMessageSize: 2000 });
  const material = ensureTlsCertificate(t.env.dir, 'localhost');
  strict = createImapServer({
    service: t.env.service,
    authenticator: new PasswordAuthenticator({
      store: t.env.store,
      logger: t.env.logger,
      limiter: new LoginLimiter({ freeFailures: 1, baseDelayMs: 300 }),
    }),
    logger: t.env.logger,
    tls: material,
    hostname: 'localhost',
    allowPlaintextAuth: false,
    maxMessageSize: 1000,
    preauthTimeoutMs: 300,
    idleTimeoutMs: 600,
    maxLineLength: 200,
  });
  strictPort = (await strict.listen(0, '127.0.0.1', false)).port;
});

afterAll(async () => {
  await strict.close();
  await t.close();
});

describe('greeting and capabilities', () => {
  it('greets with OK and the capability list (RFC 9051 §7.1.1)', async () => {
    const c = await TestClient.connect(t.port);
    const greeting = await c.next();
    expect(greeting).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 IMAP4rev2 .*\] Sluice ready$/);
    for (const cap of ['LITERAL+', 'SASL-IR', 'IDLE', 'UIDPLUS', 'MOVE', 'CONDSTORE', 'QRESYNC', 'LIST-STATUS', 'STATUS=SIZE', 'APPENDLIMIT=2000', 'STARTTLS', 'AUTH=PLAIN', 'THREAD=REFERENCES']) {
      expect(greeting.split(/[ \]]/)).toContain(cap);
    }
    expect(greeting).not.toContain('COMPRESS=DEFLATE');
    const caps = await c.command('CAPABILITY');
    expect(caps.untagged[0]).toMatch(/^\* CAPABILITY IMAP4rev1 /);
    expect(caps.tagged).toBe('T1 OK CAPABILITY completed');
    const login = await c.command(`LOGIN alice@example.test ${PASSWORD}`);
    // RFC 9051 §6.2.3: the new capabilities in the tagged OK; COMPRESS now, no STARTTLS/AUTH=.
    expect(login.tagged).toMatch(/^T2 OK \[CAPABILITY .*COMPRESS=DEFLATE.*\] Logged in$/);
    expect(login.tagged).not.toMatch(/STARTTLS|AUTH=PLAIN/);
    const bye = await c.command('LOGOUT');
    expect(bye.untagged[0]).toMatch(/^\* BYE /);
    expect(bye.tagged).toBe('T3 OK LOGOUT completed');
    c.close();
  });

  it('answers a parse error with BAD, tagged when it can, and a wrong-state command with BAD', async () => {
    const c = await TestClient.connect(t.port);
    await c.next();
    expect((await c.command('FROBNICATE')).tagged).toMatch(/^T1 BAD /);
    c.send('\r\n');
    expect(await c.next()).toMatch(/^\* BAD /);
    expect((await c.command('SELECT INBOX')).tagged).toMatch(/^T2 BAD .*not valid in this state/);
    expect((await c.command('FETCH 1 FLAGS')).tagged).toMatch(/^T3 BAD /);
    c.close();
  });
});

describe('pipelining', () => {
  it('answers pipelined commands strictly in order, a slow change included', async () => {
    const c = await loggedIn(t.port);
    c.send('P1 CREATE Piped\r\nP2 STATUS Piped (MESSAGES)\r\nP3 NOOP\r\nP4 DELETE Piped\r\nP5 STATUS Piped (MESSAGES)\r\n');
    const seen: string[] = [];
    while (seen.length < 6) seen.push(await c.next());
    expect(seen).toEqual([
      'P1 OK CREATE completed',
      '* STATUS "Piped" (MESSAGES 0)',
      'P2 OK STATUS completed',
      'P3 OK NOOP completed',
      'P4 OK DELETE completed',
      expect.stringMatching(/^P5 NO \[NONEXISTENT\]/),
    ]);
    c.close();
  });
});

describe('TLS', () => {
  it('announces LOGINDISABLED before STARTTLS and refuses LOGIN, then logs in over TLS (RFC 9051 §6.2.1)', async () => {
    const c = await TestClient.connect(strictPort);
    const greeting = await c.next();
    expect(greeting).toContain('LOGINDISABLED');
    expect(greeting).toContain('STARTTLS');
    expect(greeting).not.toContain('AUTH=PLAIN');
    expect((await c.command(`LOGIN alice@example.test ${PASSWORD}`)).tagged).toMatch(/^T1 NO \[PRIVACYREQUIRED\]/);
    expect((await c.command(`AUTHENTICATE PLAIN ${plain('alice@example.test', PASSWORD)}`)).tagged).toMatch(/^T2 NO \[PRIVACYREQUIRED\]/);
    // A command pipelined after STARTTLS is discarded, not run in the clear.
    c.send('T3 STARTTLS\r\nT4 NOOP\r\n');
    expect(await c.next()).toBe('T3 OK Begin TLS negotiation now');
    await c.startTls();
    const caps = await c.command('CAPABILITY');
    expect(caps.untagged[0]).not.toMatch(/LOGINDISABLED|STARTTLS/);
    expect(caps.untagged[0]).toContain('AUTH=PLAIN');
    expect(caps.tagged).toMatch(/^T\d+ OK CAPABILITY completed$/);
    expect((await c.command(`LOGIN alice@example.test ${PASSWORD}`)).tagged).toMatch(/^T\d+ OK /);
    expect((await c.command('STARTTLS')).tagged).toMatch(/^T\d+ BAD /);
    c.close();
  });

  it('serves implicit TLS on the second listener', async () => {
    const c = await TestClient.connect(t.tlsPort, { tls: true });
    const greeting = await c.next();
    expect(greeting).toMatch(/^\* OK /);
    expect(greeting).not.toContain('STARTTLS');
    expect((await c.command(`LOGIN alice@example.test ${PASSWORD}`)).tagged).toMatch(/^T1 OK /);
    c.close();
  });
});

describe('authentication', () => {
  it('AUTHENTICATE PLAIN with an initial response (RFC 4959) and with a continuation', async () => {
    const a = await TestClient.connect(t.port);
    await a.next();
    expect((await a.command(`AUTHENTICATE PLAIN ${plain('alice@example.test', PASSWORD)}`)).tagged).toMatch(/^T1 OK \[CAPABILITY /);
    a.close();

    const b = await TestClient.connect(t.port);
    await b.next();
    b.send('A1 AUTHENTICATE PLAIN\r\n');
    expect(await b.next()).toBe('+ ');
    b.send(`${plain('bob@example.test', PASSWORD)}\r\n`);
    expect(await b.next()).toMatch(/^A1 OK /);
    b.close();

    const c = await TestClient.connect(t.port);
    await c.next();
    c.send('A1 AUTHENTICATE PLAIN\r\n');
    expect(await c.next()).toBe('+ ');
    c.send('*\r\n');
    expect(await c.next()).toMatch(/^A1 BAD /);
    expect((await c.command(`AUTHENTICATE PLAIN ${plain('alice@example.test', PASSWORD, 'bob@example.test')}`)).tagged).toMatch(/^T1 NO /);
    expect((await c.command('AUTHENTICATE CRAM-MD5')).tagged).toMatch(/^T2 NO /);
    c.close();
  });

  it('refuses a wrong password after a growing delay, unknown users alike, and says BYE after 3 failures', async () => {
    const c = await TestClient.connect(strictPort);
    await c.next();
    c.send('S STARTTLS\r\n');
    await c.next();
    await c.startTls();
    expect((await c.command('LOGIN carol@example.test wrong')).tagged).toBe('T1 NO [AUTHENTICATIONFAILED] Authentication failed');
    let start = Date.now();
    expect((await c.command('LOGIN carol@example.test wrong')).tagged).toBe('T2 NO [AUTHENTICATIONFAILED] Authentication failed');
    expect(Date.now() - start).toBeGreaterThanOrEqual(290);
    start = Date.now();
    const third = await c.command(`AUTHENTICATE PLAIN ${plain('alice@example.test', 'wrong')}`);
    expect(Date.now() - start).toBeGreaterThanOrEqual(590); // the IP's count applies to any address
    expect(third.tagged).toMatch(/^T3 NO \[AUTHENTICATIONFAILED\]/);
    expect(await c.next()).toMatch(/^\* BYE /);
    await expect(c.next(2000)).rejects.toThrow(/closed/);
  });
});

describe('protection', () => {
  it('logs out a client that says nothing before authenticating (RFC 9051 §5.4)', async () => {
    const c = await TestClient.connect(strictPort);
    await c.next();
    const start = Date.now();
    expect(await c.next(3000)).toMatch(/^\* BYE Autologout/);
    expect(Date.now() - start).toBeGreaterThanOrEqual(250);
    await expect(c.next(2000)).rejects.toThrow(/closed/);
  });

  it('refuses an oversize APPEND literal with TOOBIG and no continuation (RFC 7889)', async () => {
    const c = await loggedIn(t.port);
    c.send('A1 APPEND INBOX {5000}\r\n');
    expect(await c.next()).toMatch(/^A1 NO \[TOOBIG\]/);
    // Non-synchronizing: the bytes are skipped, then refused.
    c.send(`A2 APPEND INBOX {3000+}\r\n${'x'.repeat(3000)}\r\n`);
    expect(await c.next()).toMatch(/^A2 NO \[TOOBIG\]/);
    expect((await c.command('NOOP')).tagged).toMatch(/^T\d+ OK NOOP completed$/);
    c.close();
  });

  it('refuses an over-long line with BAD and goes on', async () => {
    const c = await TestClient.connect(strictPort);
    await c.next();
    c.send(`L1 NOOP ${'a'.repeat(500)}\r\n`);
    expect(await c.next()).toMatch(/^L1 BAD /);
    expect((await c.command('NOOP')).tagged).toBe('T1 OK NOOP completed');
    c.close();
  });

  it('says BYE to sessions when the server closes', async () => {
    const own = await startImapTestEnv();
    const c = await loggedIn(own.port);
    const closing = own.close();
    expect(await c.next()).toMatch(/^\* BYE /);
    await closing;
  });
});

describe('COMPRESS=DEFLATE (RFC 4978)', () => {
  it('compresses both ways after the tagged OK, and only once', async () => {
    const c = await loggedIn(t.port);
    expect((await c.command('COMPRESS DEFLATE')).tagged).toBe('T2 OK DEFLATE active');
    c.startCompression();
    const caps = await c.command('CAPABILITY');
    expect(caps.untagged[0]).toMatch(/^\* CAPABILITY /);
    expect(caps.untagged[0]).not.toContain('COMPRESS=DEFLATE');
    const list = await c.command('LIST "" *');
    expect(list.untagged).toContain('* LIST (\\HasNoChildren) "/" "INBOX"');
    expect((await c.command('COMPRESS DEFLATE')).tagged).toMatch(/^T5 NO \[COMPRESSIONACTIVE\]/);
    c.close();
  });

  it('is refused before authentication', async () => {
    const c = await TestClient.connect(t.port);
    await c.next();
    expect((await c.command('COMPRESS DEFLATE')).tagged).toMatch(/^T1 BAD /);
    expect((await c.command('NOOP')).tagged).toBe('T2 OK NOOP completed');
    c.close();
  });
});

describe('autologout once authenticated', () => {
  it('logs out an idle authenticated client, IDLE included, after the configured time', async () => {
    const c = await TestClient.connect(strictPort);
    await c.next();
    c.send('S STARTTLS\r\n');
    await c.next();
    await c.startTls();
    expect((await c.command(`LOGIN bob@example.test ${PASSWORD}`)).tagged).toMatch(/^T1 OK /);
    c.send('I1 IDLE\r\n');
    expect(await c.next()).toBe('+ idling');
    const start = Date.now();
    expect(await c.next(3000)).toMatch(/^\* BYE Autologout/);
    expect(Date.now() - start).toBeGreaterThanOrEqual(400);
  });
});
