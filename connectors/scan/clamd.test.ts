/** ClamdScanner against a real clamd (Debian clamav-daemon) started by the test with its own EICAR signature. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClamdScanner, parseClamdAddress } from './clamd.ts';
import { ScannerUnavailableError } from './scanner.ts';
import { EICAR, EICAR_SIGNATURE, startClamd, type RunningClamd } from '../../test/harness/clamd.ts';
import { freePort } from '../../test/harness/server.ts';

function mailWithAttachment(content: string): Buffer {
  const b64 = Buffer.from(content).toString('base64');
  return Buffer.from(
    [
      'From: a@example.org',
      'To: b@example.test',
      'Subject: files',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'see attached',
      '--b1',
      'Content-Type: application/octet-stream; name="file.com"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="file.com"',
      '',
      b64,
      '--b1--',
      '',
    ].join('\r\n'),
  );
}

describe('ClamdScanner', () => {
  let clamd: RunningClamd;
  let scanner: ClamdScanner;
  beforeAll(async () => {
    clamd = await startClamd();
    scanner = new ClamdScanner({ address: clamd.address });
  });
  afterAll(async () => {
    await scanner?.close();
    await clamd?.stop();
  });

  it('finds the EICAR file by the signature the test wrote', async () => {
    expect(await scanner.scan(Buffer.from(EICAR))).toEqual({ infected: true, viruses: [`${EICAR_SIGNATURE}.UNOFFICIAL`] });
  });

  it('finds EICAR base64-encoded inside a MIME attachment of a whole message', async () => {
    const verdict = await scanner.scan(mailWithAttachment(EICAR));
    expect(verdict.infected).toBe(true);
  });

  it('passes a clean message of the same structure', async () => {
    expect(await scanner.scan(mailWithAttachment('just some harmless bytes'))).toEqual({ infected: false, viruses: [] });
  });

  it('scans many messages at once', async () => {
    const verdicts = await Promise.all(Array.from({ length: 20 }, (_, i) => scanner.scan(mailWithAttachment(i % 2 ? EICAR : `clean ${i}`))));
    expect(verdicts.map((v) => v.infected)).toEqual(Array.from({ length: 20 }, (_, i) => i % 2 === 1));
  });

  it('says unavailable (not clean) when nothing listens', async () => {
    const down = new ClamdScanner({ address: `127.0.0.1:${await freePort()}` });
    await expect(down.scan(Buffer.from(EICAR))).rejects.toBeInstanceOf(ScannerUnavailableError);
    const noSocket = new ClamdScanner({ address: '/nonexistent/clamd.sock' });
    await expect(noSocket.scan(Buffer.from('x'))).rejects.toBeInstanceOf(ScannerUnavailableError);
  });

  it('health: PONG from the running clamd is ok, a closed port is not', async () => {
    expect(await scanner.health()).toMatchObject({ kind: 'clamd', ok: true });
    const down = await new ClamdScanner({ address: `127.0.0.1:${await freePort()}` }).health();
    expect(down).toMatchObject({ kind: 'clamd', ok: false });
    expect(down.error).toMatch(/ECONNREFUSED/);
  });

  it('parses host:port and socket paths', () => {
    expect(parseClamdAddress('127.0.0.1:3310')).toEqual({ host: '127.0.0.1', port: 3310 });
    expect(parseClamdAddress('[::1]:3310')).toEqual({ host: '::1', port: 3310 });
    expect(parseClamdAddress('/run/clamav/clamd.ctl')).toEqual({ socket: '/run/clamav/clamd.ctl' });
    expect(() => parseClamdAddress('clamd')).toThrow(/host:port/);
  });
});
