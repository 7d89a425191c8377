/** The self-signed certificate (tls.ts): made once, reused; processes starting at once on one folder agree on one pair. */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureTlsCertificate } from './tls.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const run = promisify(execFile);

function matches(pair: { key: string; cert: string }): boolean {
  return new X509Certificate(pair.cert).checkPrivateKey(createPrivateKey(pair.key));
}

describe('ensureTlsCertificate', () => {
  it('makes a key and certificate that match, once; later calls read them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
    const first = ensureTlsCertificate(dir, 'mx.sluice.test');
    expect(first.created).toBe(true);
    expect(matches(first)).toBe(true);
    expect(new X509Certificate(first.cert).subjectAltName).toContain('DNS:mx.sluice.test');
    const again = ensureTlsCertificate(dir, 'mx.sluice.test');
    expect(again).toEqual({ ...first, created: false });
    expect(existsSync(join(dir, 'tls', 'making.lock'))).toBe(false);
  });

  it('four processes starting at once on one data folder all get the one pair on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
    const script = join(dir, 'make.mts');
    writeFileSync(
      script,
      `import { ensureTlsCertificate } from ${JSON.stringify(join(ROOT, 'ingress/tls.ts'))};\n` +
        `const made = ensureTlsCertificate(${JSON.stringify(dir)}, 'mx.sluice.test');\n` +
        'process.stdout.write(JSON.stringify(made));\n',
    );
    const results = await Promise.all(
      Array.from({ length: 4 }, () => run(process.execPath, [join(ROOT, 'bin/run-ts.js'), script], { timeout: 120_000 })),
    );
    const pairs = results.map((r) => JSON.parse(r.stdout) as { key: string; cert: string; created: boolean });
    expect(pairs.filter((p) => p.created).length).toBe(1);
    const onDisk = { key: readFileSync(join(dir, 'tls', 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'tls', 'cert.pem'), 'utf8') };
    expect(matches(onDisk)).toBe(true);
    for (const p of pairs) expect({ key: p.key, cert: p.cert }).toEqual(onDisk);
    expect(existsSync(join(dir, 'tls', 'making.lock'))).toBe(false);
  }, 180_000);

  it('takes over the lock of a process that is gone', () => {
    const other = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
    mkdirSync(join(other, 'tls'));
    // A pid that cannot be a live process (above the kernel's pid_max).
    writeFileSync(join(other, 'tls', 'making.lock'), '99999999\n');
    const made = ensureTlsCertificate(other, 'mx.sluice.test');
    expect(made.created).toBe(true);
    expect(matches(made)).toBe(true);
    expect(existsSync(join(other, 'tls', 'making.lock'))).toBe(false);
  });
});
