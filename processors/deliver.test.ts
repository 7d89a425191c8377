/**
 * The deliver stage against real SMTP servers (smtp-server on loopback) found through a real
 * DNS server on loopback (test/harness/dns.ts), with the real nodemailer client.
 */
import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliverProcessor } from './deliver.ts';
import { inputRecord, openTestResources, type TestResources } from './test-resources.ts';
import { queuedMail, testOutbound, testPolicy } from './outbound/test-outbound.ts';
import type { OutboundPolicy, OutboundResources } from '../connectors/outbound.ts';
import type { DeliveryResult, MailOutbound, MailReceived } from '../schemas/types.ts';
import { startDns, type RunningDns } from '../test/harness/dns.ts';
import { freePort } from '../test/harness/server.ts';

let res: TestResources;
let dns: RunningDns;
let port: number;
const servers: SMTPServer[] = [];
const clients: OutboundResources[] = [];

beforeAll(async () => {
  res = openTestResources();
  port = await freePort();
  dns = await startDns({
    'up.test': { MX: [{ exchange: 'mx.up.test', priority: 10 }] },
    'mx.up.test': { A: ['127.0.0.1'] },
    // RFC 5321 §5.1: the lower preference first; the first host refuses, the second takes it.
    'two.test': { MX: [{ exchange: 'mx2.two.test', priority: 20 }, { exchange: 'mx1.two.test', priority: 10 }] },
    'mx1.two.test': { A: ['127.0.0.9'] },
    'mx2.two.test': { A: ['127.0.0.1'] },
    'implicit.test': { A: ['127.0.0.1'] }, // no MX: the A record is the implicit MX
    'nullmx.test': { MX: [{ exchange: '', priority: 0 }] },
    'down.test': { MX: [{ exchange: 'mx.down.test', priority: 10 }] },
    'mx.down.test': { A: ['127.0.0.8'] },
  });
});
afterAll(async () => {
  await dns.close();
  await res.close();
});
afterEach(async () => {
  for (const o of clients.splice(0)) await o.smtp.close(); // idle sessions kept for reuse
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

/** An SMTP server on 127.0.0.1:port; `rcpt` decides each recipient's reply. */
async function remote(
  options: { rcpt?: (address: string) => string | null; onData?: () => Promise<void>; plain?: boolean; dropAtMail?: number; greeting?: string } = {},
): Promise<{ got: string[]; maxConcurrent: () => number; connections: () => number; drop: () => void; secure: boolean[]; helo: string[] }> {
  const got: string[] = [];
  let connections = 0;
  let mails = 0;
  const secure: boolean[] = [];
  const helo: string[] = [];
  let open = 0;
  let max = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    hideSTARTTLS: options.plain ?? false,
    onConnect(_s, cb) {
      connections++;
      open++;
      max = Math.max(max, open);
      if (!options.greeting) return cb();
      // The server turns the session away in its greeting (e.g. 421, RFC 5321 §3.1).
      const err = new Error(options.greeting.slice(4)) as Error & { responseCode: number };
      err.responseCode = Number(options.greeting.slice(0, 3));
      cb(err);
    },
    onClose() {
      open--;
    },
    onMailFrom(_address, _s, cb) {
      // The connection drops (no reply) at this MAIL FROM, as a crashed or cut-off server's would.
      if (++mails === options.dropAtMail) return drop();
      cb();
    },
    onRcptTo(address, _s, cb) {
      const reply = options.rcpt?.(address.address) ?? null;
      if (!reply) return cb();
      const err = new Error(reply.slice(4)) as Error & { responseCode: number };
      err.responseCode = Number(reply.slice(0, 3));
      cb(err);
    },
    onData(stream, session, cb) {
      stream.resume();
      stream.on('end', () => {
        got.push(...session.envelope.rcptTo.map((r) => r.address));
        secure.push(session.secure);
        helo.push(session.hostNameAppearsAs);
        void (options.onData?.() ?? Promise.resolve()).then(() => cb());
      });
    },
  } satisfies SMTPServerOptions);
  const drop = () => {
    for (const c of (server as unknown as { connections: Set<{ _socket: Socket }> }).connections) c._socket.destroy();
  };
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  servers.push(server);
  return { got, maxConcurrent: () => max, connections: () => connections, drop, secure, helo };
}

function stage(policy: Partial<OutboundPolicy> = {}, perDestination = 5) {
  const outbound = testOutbound(res.dir, dns.address, testPolicy({ port, ...policy }), perDestination);
  clients.push(outbound);
  return deliverProcessor.create(deliverProcessor.spec.config.parse({}), { ...res, outbound });
}

type Out = { topic?: string; key: string; value: MailOutbound | MailReceived | DeliveryResult };
const results = (outs: Out[]) => outs.filter((o) => o.topic === 'mail.outbound.results').map((o) => o.value as DeliveryResult);
const dsns = (outs: Out[]) => outs.filter((o) => o.topic === 'mail.received').map((o) => o.value as MailReceived);
const retries = (outs: Out[]) => outs.filter((o) => o.topic?.startsWith('mail.outbound.retry.'));

describe('deliver stage', () => {
  it('delivers to the MX; 550 and 451 recipients get a DSN and a retry record; each outcome is recorded', async () => {
    const server = await remote({ rcpt: (a) => (a.startsWith('gone') ? '550 5.1.1 no such user' : a.startsWith('busy') ? '451 4.2.0 try later' : null) });
    const mail = await queuedMail(res.blobs, { domain: 'up.test', recipients: ['ok@up.test', 'gone@up.test', 'busy@up.test'] });
    const outs = await stage().process(inputRecord('mail.outbound.scanned', 'up.test', mail));
    expect(server.got).toEqual(['ok@up.test']);
    // RFC 3207: STARTTLS when offered (smtp-server offers it, with a certificate nobody vouches for); EHLO with our name.
    expect(server.secure).toEqual([true]);
    expect(server.helo).toEqual(['mx.sluice.test']);
    expect(results(outs).map((r) => [r.recipient, r.status, r.code, r.attempt, r.host])).toEqual([
      ['ok@up.test', 'delivered', 250, 1, 'mx.up.test'],
      ['gone@up.test', 'failed', 550, 1, 'mx.up.test'],
      ['busy@up.test', 'deferred', 451, 1, 'mx.up.test'],
    ]);
    const [dsn] = dsns(outs);
    expect(dsn).toMatchObject({ userId: 'alice@sluice.test', recipient: 'alice@sluice.test', mailFrom: '', source: 'dsn', mailbox: 'INBOX', ingressId: 'ing-1:up.test.dsn-failed-1' });
    const text = (await res.blobs.get(dsn.rawBlob)).toString();
    expect(text).toContain('Final-Recipient: rfc822; gone@up.test\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.up.test\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user');
    expect(text).not.toContain('busy@up.test');
    expect(text).toContain('Message-ID: <m1@client.test>'); // the original's header section
    // RFC 5321 §4.5.4.1: the deferred recipient alone waits on retry topic 1, for the first delay (1 m).
    const [retry] = retries(outs);
    expect(retry.topic).toBe('mail.outbound.retry.1');
    expect(retry.value).toMatchObject({ recipients: ['busy@up.test'], attempt: 1, notBefore: res.now() + 60_000, delayNotified: false, lastResponses: { 'busy@up.test': '451 4.2.0 try later' } });
  });

  it('a server that offers no STARTTLS gets the mail in clear (opportunistic, RFC 7435)', async () => {
    const server = await remote({ plain: true });
    const outs = await stage().process(inputRecord('x', 'up.test', await queuedMail(res.blobs, { domain: 'up.test', recipients: ['a@up.test'] })));
    expect(server.secure).toEqual([false]);
    expect(results(outs)[0].status).toBe('delivered');
  });

  it('tries the MX hosts by preference: the first refuses the connection, the second takes the mail', async () => {
    const server = await remote();
    const mail = await queuedMail(res.blobs, { domain: 'two.test', recipients: ['a@two.test'] });
    const outs = await stage().process(inputRecord('x', 'two.test', mail));
    expect(server.got).toEqual(['a@two.test']);
    expect(results(outs)[0]).toMatchObject({ status: 'delivered', host: 'mx2.two.test' });
  });

  it('uses the A record of a domain without MX (implicit MX)', async () => {
    const server = await remote();
    const outs = await stage().process(inputRecord('x', 'implicit.test', await queuedMail(res.blobs, { domain: 'implicit.test', recipients: ['a@implicit.test'] })));
    expect(server.got).toEqual(['a@implicit.test']);
    expect(results(outs)[0]).toMatchObject({ status: 'delivered', host: 'implicit.test' });
  });

  it('a null MX (RFC 7505) and a domain that does not exist fail at once, with a DSN', async () => {
    for (const [domain, status] of [['nullmx.test', '5.1.10'], ['nowhere.test', '5.1.2']] as const) {
      const outs = await stage().process(inputRecord('x', domain, await queuedMail(res.blobs, { domain, recipients: [`a@${domain}`] })));
      expect(results(outs)[0]).toMatchObject({ status: 'failed', code: domain === 'nullmx.test' ? 556 : 550 });
      expect((await res.blobs.get(dsns(outs)[0].rawBlob)).toString()).toContain(`Status: ${status}\r\n`);
      expect(retries(outs)).toEqual([]);
    }
  });

  it('nothing listening: deferred to the retry topic of the attempt, the schedule\'s delay, the last topic for later attempts', async () => {
    const s = stage({ retrySchedule: [1_000, 2_000, 3_000] });
    const mail = await queuedMail(res.blobs, { domain: 'down.test', recipients: ['a@down.test'], submittedAt: res.now() - 1_000 });
    const first = await s.process(inputRecord('x', 'down.test', mail));
    expect(retries(first).map((r) => [r.topic, (r.value as MailOutbound).notBefore - res.now()])).toEqual([['mail.outbound.retry.1', 1_000]]);
    expect(results(first)[0]).toMatchObject({ status: 'deferred', code: 0, response: expect.stringMatching(/^4\.4\.1 no answer: mx\.down\.test \[127\.0\.0\.8\]/) });
    const seventh = await s.process(inputRecord('x', 'down.test', { ...mail, attempt: 6 }));
    expect(retries(seventh).map((r) => [r.topic, (r.value as MailOutbound).notBefore - res.now(), (r.value as MailOutbound).attempt])).toEqual([['mail.outbound.retry.5', 3_000, 7]]);
    expect(dsns(seventh)).toEqual([]);
  });

  it('one delayed DSN once the mail is delayWarning old, and the next attempt is brought forward to that time', async () => {
    const s = stage();
    const young = await queuedMail(res.blobs, { domain: 'down.test', recipients: ['a@down.test'], submittedAt: res.now() - 3 * 3_600_000, attempt: 4 });
    // After attempt 5 the delay would be 8 h; the 4 h warning comes first.
    const [retry] = retries(await s.process(inputRecord('x', 'down.test', young)));
    expect((retry.value as MailOutbound).notBefore).toBe(young.submittedAt + 4 * 3_600_000);
    const old = { ...young, submittedAt: res.now() - 4 * 3_600_000 };
    const outs = await s.process(inputRecord('x', 'down.test', old));
    const [dsn] = dsns(outs);
    const text = (await res.blobs.get(dsn.rawBlob)).toString();
    expect(text).toMatch(/^Subject: Delayed Mail \(still being retried\)\r$/m);
    expect(text).toContain('Action: delayed\r\nStatus: 4.4.1');
    expect(text).toContain('Diagnostic-Code: x-sluice; 4.4.1 no answer');
    expect((retries(outs)[0].value as MailOutbound).delayNotified).toBe(true);
    expect(dsns(await s.process(inputRecord('x', 'down.test', { ...old, delayNotified: true })))).toEqual([]);
  });

  it('at maxAge a temporary failure is final: a failure DSN (4.4.7), status expired, no retry', async () => {
    const mail = await queuedMail(res.blobs, { domain: 'down.test', recipients: ['a@down.test'], submittedAt: res.now() - 5 * 86_400_000, attempt: 20, lastResponses: {} });
    const outs = await stage().process(inputRecord('x', 'down.test', mail));
    expect(retries(outs)).toEqual([]);
    expect(results(outs).map((r) => r.status)).toEqual(['expired']);
    expect((await res.blobs.get(dsns(outs)[0].rawBlob)).toString()).toContain('Action: failed\r\nStatus: 4.4.7\r\n');
  });

  it('outbound.relay: every domain goes to the smarthost, no MX lookup', async () => {
    const server = await remote();
    const outs = await stage({ relay: `127.0.0.1:${port}` }).process(inputRecord('x', 'nowhere.test', await queuedMail(res.blobs, { domain: 'nowhere.test', recipients: ['a@nowhere.test'] })));
    expect(server.got).toEqual(['a@nowhere.test']);
    expect(results(outs)[0]).toMatchObject({ status: 'delivered', host: '127.0.0.1' });
  });

  it('concurrent batches to one domain: at most connectionsPerDomain connections at once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const server = await remote({ onData: () => gate });
    const s = stage({}, 2);
    const records = await Promise.all([1, 2, 3, 4].map(async (i) => inputRecord('x', 'up.test', await queuedMail(res.blobs, { domain: 'up.test', outboundId: `ing-${i}:up.test`, recipients: [`r${i}@up.test`] }), i)));
    const done = Promise.all(records.map((r) => s.process(r)));
    await new Promise((r) => setTimeout(r, 500));
    release();
    const outs = await done;
    expect(outs.map((o) => results(o)[0].status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    expect(server.maxConcurrent()).toBe(2);
  });

  it('one connection per domain: a batch\'s messages go over one SMTP session, one after the other, and the session serves the next batch', async () => {
    const server = await remote();
    const s = stage({}, 1);
    const batch = (from: number, n: number) =>
      Promise.all(Array.from({ length: n }, async (_, j) => inputRecord('x', 'up.test', await queuedMail(res.blobs, { domain: 'up.test', outboundId: `ing-${from + j}:up.test`, recipients: [`r${from + j}@up.test`] }), from + j)));
    const first = await s.processBatch!(await batch(1, 6));
    expect(first.map((o) => results(o)[0].status)).toEqual(Array(6).fill('delivered'));
    expect(server.got).toEqual(['r1@up.test', 'r2@up.test', 'r3@up.test', 'r4@up.test', 'r5@up.test', 'r6@up.test']);
    expect(server.connections()).toBe(1);
    expect(server.secure).toEqual(Array(6).fill(true)); // STARTTLS once, the session stays TLS
    await s.processBatch!(await batch(7, 2)); // within outbound idle time: the same session (RSET first)
    expect(server.got).toHaveLength(8);
    expect(server.connections()).toBe(1);
  });

  it('a batch\'s messages to one domain are spread over connectionsPerDomain sessions, each delivered once, the sessions kept for the next batch', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const server = await remote({ onData: () => gate });
    const s = stage({}, 3);
    const batch = (from: number, n: number) =>
      Promise.all(Array.from({ length: n }, async (_, j) => inputRecord('x', 'up.test', await queuedMail(res.blobs, { domain: 'up.test', outboundId: `ing-${from + j}:up.test`, recipients: [`r${from + j}@up.test`] }), from + j)));
    const first = s.processBatch!(await batch(1, 7));
    await new Promise((r) => setTimeout(r, 300));
    expect(server.got).toHaveLength(3); // three at the remote at once, each waiting for its 250
    release();
    expect((await first).map((o) => results(o)[0].status)).toEqual(Array(7).fill('delivered'));
    expect([...server.got].sort()).toEqual(Array.from({ length: 7 }, (_, j) => `r${j + 1}@up.test`).sort());
    expect(server.maxConcurrent()).toBe(3);
    expect(server.connections()).toBe(3);
    await s.processBatch!(await batch(8, 2)); // the idle sessions serve the next batch
    expect(server.got).toHaveLength(9);
    expect(server.connections()).toBe(3);
  });

  it('a domain whose server turns sessions away: each lane asks once at most, the batch\'s other messages get the same reply', async () => {
    const server = await remote({ greeting: '421 4.3.2 busy, try later' });
    const s = stage({}, 2);
    const records = await Promise.all([1, 2, 3, 4, 5, 6].map(async (i) => inputRecord('x', 'up.test', await queuedMail(res.blobs, { domain: 'up.test', outboundId: `ing-${i}:up.test`, recipients: [`r${i}@up.test`] }), i)));
    const outs = await s.processBatch!(records);
    expect(outs.map((o) => results(o)[0].status)).toEqual(Array(6).fill('deferred'));
    expect(outs.map((o) => results(o)[0].code)).toEqual(Array(6).fill(421));
    expect(server.connections()).toBeLessThanOrEqual(2);
  });

  it('a session dropped at the 3rd of 5 messages: the 3rd is retried, the others delivered — each recipient once', async () => {
    const server = await remote({ dropAtMail: 3 });
    const s = stage({}, 1);
    const records = await Promise.all([1, 2, 3, 4, 5].map(async (i) => inputRecord('x', 'up.test', await queuedMail(res.blobs, { domain: 'up.test', outboundId: `ing-${i}:up.test`, recipients: [`r${i}@up.test`] }), i)));
    const outs = await s.processBatch!(records);
    expect(outs.map((o) => results(o)[0].status)).toEqual(['delivered', 'delivered', 'deferred', 'delivered', 'delivered']);
    expect(results(outs[2])[0]).toMatchObject({ code: 0 });
    expect(outs.map((o) => retries(o).length)).toEqual([0, 0, 1, 0, 0]);
    expect(server.connections()).toBe(2); // the 4th and 5th on a new session
    const [retry] = retries(outs[2]);
    expect(retry.value).toMatchObject({ recipients: ['r3@up.test'], attempt: 1 });
    const again = await s.process(inputRecord(retry.topic!, retry.key, retry.value as MailOutbound));
    expect(results(again).map((r) => [r.recipient, r.status, r.attempt])).toEqual([['r3@up.test', 'delivered', 2]]);
    expect([...server.got].sort()).toEqual(['r1@up.test', 'r2@up.test', 'r3@up.test', 'r4@up.test', 'r5@up.test']);
  });

  it('an idle session the server has closed is not used: the next message goes over a new one, nothing deferred', async () => {
    const server = await remote();
    const s = stage();
    const one = async (i: number) => inputRecord('x', 'up.test', await queuedMail(res.blobs, { domain: 'up.test', outboundId: `ing-${i}:up.test`, recipients: [`r${i}@up.test`] }), i);
    expect(results(await s.process(await one(1)))[0].status).toBe('delivered');
    server.drop(); // e.g. the remote's idle timeout (RFC 5321 §4.5.3.2.7)
    await new Promise((r) => setTimeout(r, 100));
    expect(results(await s.process(await one(2)))[0].status).toBe('delivered');
    expect(server.got).toEqual(['r1@up.test', 'r2@up.test']);
    expect(server.connections()).toBe(2);
  });
});
