/** Wire-level scenarios with a raw socket: what a broken or hostile client gets back. */
import { afterEach, describe, expect, it } from 'vitest';
import { DOMAIN, RawSmtpClient, greet, message, startHarness, type Harness } from './smtp-test-kit.ts';

const harnesses: Harness[] = [];
async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(options);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
});

/** MAIL, RCPT and DATA for alice; resolves at the 354. */
async function openData(client: RawSmtpClient, rcpt = `alice@${DOMAIN}`): Promise<void> {
  expect((await client.command('MAIL FROM:<sender@remote.example>')).code).toBe(250);
  expect((await client.command(`RCPT TO:<${rcpt}>`)).code).toBe(250);
  expect((await client.command('DATA')).code).toBe(354);
}

describe('SMTP MX: bad commands', () => {
  it('answers 500 5.5.2 to unknown commands and keeps the session', async () => {
    const h = await harness();
    const { client } = await greet(h.port);
    const reply = await client.command('FROB nicate');
    expect(reply.code).toBe(500);
    expect(reply.text).toMatch(/^5\.5\.2 /);
    expect((await client.command('BDAT 10 LAST')).code).toBe(500); // RFC 3030 CHUNKING is not offered
    expect((await client.command('NOOP')).code).toBe(250);
    client.close();
  });

  it('answers 500 5.5.2 Line too long to an over-long command line, then closes with 421 (RFC 5321 §4.5.3.1.4, §3.8)', async () => {
    const h = await harness();
    const { client } = await greet(h.port);
    client.write(`NOOP ${'x'.repeat(10_000)}\r\nRCPT TO:<bob@${DOMAIN}>\r\n`);
    const reply = await client.read();
    expect(reply.code).toBe(500);
    expect(reply.text).toBe('5.5.2 Line too long');
    expect((await client.read()).code).toBe(421);
    expect(await client.waitClosed()).toBe(true);
    // A line that never ends is bounded too.
    const { client: slow } = await greet(h.port);
    for (let i = 0; i < 5; i++) slow.write('y'.repeat(1000));
    expect((await slow.read()).code).toBe(500);
    expect(await slow.waitClosed()).toBe(true);
  });

  it('answers 503 5.5.1 to commands out of sequence (RFC 5321 §4.1.4)', async () => {
    const h = await harness();
    const client = await RawSmtpClient.connect(h.port);
    expect((await client.read()).code).toBe(220);
    const early = await client.command('MAIL FROM:<sender@remote.example>');
    expect(early.code).toBe(503);
    expect(early.text).toMatch(/^5\.5\.1 /);
    await client.command('EHLO client.example');
    expect((await client.command(`RCPT TO:<alice@${DOMAIN}>`)).code).toBe(503);
    expect((await client.command('DATA')).code).toBe(503);
    expect((await client.command('MAIL FROM:<sender@remote.example>')).code).toBe(250);
    expect((await client.command('MAIL FROM:<sender@remote.example>')).code).toBe(503);
    expect((await client.command('DATA')).code).toBe(503);
    expect((await client.command('RSET')).code).toBe(250);
    expect((await client.command(`RCPT TO:<alice@${DOMAIN}>`)).code).toBe(503);
    expect(await h.records()).toEqual([]);
    client.close();
  });

  it('closes an idle connection with 421 4.4.2 after the idle timeout (RFC 5321 §4.5.3.2)', async () => {
    const h = await harness({ idleTimeoutMs: 300 });
    const { client } = await greet(h.port);
    const reply = await client.read(3000);
    expect(reply.code).toBe(421);
    expect(reply.text).toMatch(/^4\.4\.2 /);
    expect(await client.waitClosed()).toBe(true);
  });
});

describe('SMTP MX: bare line breaks and SMTP smuggling (RFC 5321 §2.3.8, §4.1.1.4)', () => {
  it('refuses a message with a bare LF with 550 and records nothing; the session goes on', async () => {
    const h = await harness();
    const { client } = await greet(h.port);
    await openData(client);
    client.write('Subject: bare\r\n\r\nline one\nline two\r\n.\r\n');
    const reply = await client.read();
    expect(reply.code).toBe(550);
    expect(reply.text).toMatch(/^5\.6\.0 .*bare CR or LF/);
    expect(await h.records()).toEqual([]);
    await openData(client);
    client.write(`${message('clean')}.\r\n`);
    expect((await client.read()).code).toBe(250);
    expect(await h.records()).toHaveLength(1);
    client.close();
  });

  it('refuses a message with a bare CR', async () => {
    const h = await harness();
    const { client } = await greet(h.port);
    await openData(client);
    client.write('Subject: bare\r\n\r\nline one\rline two\r\n.\r\n');
    expect((await client.read()).code).toBe(550);
    expect(await h.records()).toEqual([]);
    client.close();
  });

  // Each fake end of data is followed by a smuggled transaction for bob, then the real end.
  const variants: Record<string, string> = {
    '<LF>.<LF>': '\n.\n',
    '<CR>.<CR>': '\r.\r',
    '<LF>.<CR><LF>': '\n.\r\n',
    '<CR><LF>.<LF>': '\r\n.\n',
    '<CR>.<CR><LF>': '\r.\r\n',
  };
  for (const [name, fakeEnd] of Object.entries(variants)) {
    it(`never takes ${name} as the end of data: no second message is smuggled`, async () => {
      const h = await harness();
      const { client } = await greet(h.port);
      await openData(client);
      const smuggled = `MAIL FROM:<admin@${DOMAIN}>\r\nRCPT TO:<bob@${DOMAIN}>\r\nDATA\r\nSubject: smuggled\r\n\r\nSpoofed.\r\n`;
      client.write(`Subject: carrier\r\n\r\nHello.${fakeEnd}${smuggled}.\r\n`);
      // Exactly one reply for the whole thing: the smuggled commands were message content.
      const reply = await client.read();
      expect(reply.code).toBe(550);
      expect((await client.command('NOOP')).code).toBe(250);
      expect(await h.records()).toEqual([]);
      // The session is in step: a clean message now goes to alice only.
      await openData(client);
      client.write(`${message('after')}.\r\n`);
      expect((await client.read()).code).toBe(250);
      const records = await h.records();
      expect(records.map((r) => r.userId)).toEqual([`alice@${DOMAIN}`]);
      expect((await h.blobs.get(records[0].rawBlob)).toString('utf8')).not.toContain('smuggled');
      client.close();
    });
  }

  it('takes a dot-stuffed <CRLF>..<CRLF> as content and pipelined commands after <CRLF>.<CRLF> as commands (RFC 5321 §4.5.2, RFC 2920)', async () => {
    const h = await harness();
    const { client } = await greet(h.port);
    await openData(client);
    client.write(`Subject: one\r\n\r\n..\r\nstill content\r\n.\r\nMAIL FROM:<sender@remote.example>\r\nRCPT TO:<bob@${DOMAIN}>\r\nDATA\r\n`);
    expect((await client.read()).code).toBe(250);
    expect((await client.read()).code).toBe(250);
    expect((await client.read()).code).toBe(250);
    expect((await client.read()).code).toBe(354);
    client.write('Subject: two\r\n\r\nsecond\r\n.\r\n');
    expect((await client.read()).code).toBe(250);
    const records = await h.records();
    expect(records.map((r) => r.userId).sort()).toEqual([`alice@${DOMAIN}`, `bob@${DOMAIN}`]);
    const first = records.find((r) => r.userId === `alice@${DOMAIN}`)!;
    expect((await h.blobs.get(first.rawBlob)).toString('utf8')).toMatch(/\r\n\r\n\.\r\nstill content\r\n$/);
    client.close();
  });
});
