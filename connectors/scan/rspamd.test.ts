/** RspamdScanner against a real rspamd (Debian rspamd, stock rules, no network) started by the test. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RspamdScanner } from './rspamd.ts';
import { ScannerUnavailableError } from './scanner.ts';
import { startRspamd, type RunningRspamd } from '../../test/harness/rspamd.ts';
import { freePort } from '../../test/harness/server.ts';

/** The GTUBE test string: rspamd's stock rules reject any message that carries it. */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

const envelope = { remoteAddress: '127.0.0.1', helo: 'mx.example.org', mailFrom: 'a@example.org', recipient: 'b@example.test', queueId: 'q1' };
const message = (body: string): Buffer =>
  Buffer.from(`From: a@example.org\r\nTo: b@example.test\r\nSubject: lunch\r\nMessage-ID: <1@example.org>\r\nDate: Sat, 05 Dec 2026 14:00:00 +0000\r\n\r\n${body}\r\n`);

describe('RspamdScanner', () => {
  let rspamd: RunningRspamd;
  beforeAll(async () => {
    rspamd = await startRspamd();
  }, 90_000);
  afterAll(async () => {
    await rspamd?.stop();
  });

  it('reports GTUBE as reject', async () => {
    const verdict = await new RspamdScanner({ url: rspamd.url }).check(message(GTUBE), envelope);
    expect(verdict.action).toBe('reject');
    expect(verdict.score).toBeGreaterThanOrEqual(verdict.requiredScore);
  });

  it('lets a plain note through with a low score', async () => {
    const verdict = await new RspamdScanner({ url: rspamd.url }).check(message('Shall we have lunch on Tuesday?'), envelope);
    expect(verdict.action).toBe('no action');
    expect(verdict.score).toBeLessThan(6);
  });

  it('health: /ping of the running rspamd is ok, a closed port is not', async () => {
    expect(await new RspamdScanner({ url: rspamd.url }).health()).toMatchObject({ kind: 'rspamd', ok: true });
    const down = await new RspamdScanner({ url: `http://127.0.0.1:${await freePort()}` }).health();
    expect(down).toMatchObject({ kind: 'rspamd', ok: false });
    expect(down.error).toBeTruthy();
  });

  it('says unavailable when nothing listens', async () => {
    const down = new RspamdScanner({ url: `http://127.0.0.1:${await freePort()}` });
    await expect(down.check(message('x'), envelope)).rejects.toBeInstanceOf(ScannerUnavailableError);
  });
});
