/** DKIM keys in files: made once (also when two ask at once), read back, and the TXT record a verifier can use. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPublicKey, createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FsDkimKeys } from './fs.ts';
import { dkimRecordName, dkimRecordText, dkimZoneLine } from './keys.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function keysDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-dkim-'));
  dirs.push(d);
  return path.join(d, 'dkim');
}

describe('FsDkimKeys', () => {
  it('makes a 2048-bit RSA key once, under selector "sluice", readable only by its owner', async () => {
    const dir = keysDir();
    const keys = new FsDkimKeys(dir);
    expect(await keys.get('Example.TEST')).toBeNull();
    const [a, b] = await Promise.all([keys.ensure('Example.TEST'), keys.ensure('example.test')]);
    expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
    expect(a.key.privateKeyPem).toBe(b.key.privateKeyPem);
    expect(await keys.ensure('example.test')).toMatchObject({ created: false, key: { domain: 'example.test', selector: 'sluice' } });
    const file = path.join(dir, 'example.test.sluice.pem');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(createPublicKey(a.key.privateKeyPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('prints the TXT record (RFC 6376 §3.6.1) whose p= verifies what the key signs', async () => {
    const { key } = await new FsDkimKeys(keysDir()).ensure('example.test');
    expect(dkimRecordName(key)).toBe('sluice._domainkey.example.test');
    const text = dkimRecordText(key);
    expect(text).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/);
    const publicKey = createPublicKey({ key: Buffer.from(text.split('p=')[1], 'base64'), format: 'der', type: 'spki' });
    const signature = createSign('sha256').update('data').sign(key.privateKeyPem);
    expect(createVerify('sha256').update('data').verify(publicKey, signature)).toBe(true);
    // Zone-file form: strings of at most 255 characters (RFC 1035 §3.3.14).
    const line = dkimZoneLine(key);
    expect(line.startsWith('sluice._domainkey.example.test. IN TXT ( "v=DKIM1;')).toBe(true);
    expect([...line.matchAll(/"([^"]*)"/g)].every((m) => m[1].length <= 255)).toBe(true);
    expect([...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('')).toBe(text);
  });

  it('caches the parsed key per domain, and picks up a rotated key file at the next check', async () => {
    const dir = keysDir();
    let now = 1_000_000;
    const keys = new FsDkimKeys(dir, { recheckMs: 5_000, now: () => now });
    const { key: first } = await keys.ensure('example.test');
    // The same parsed KeyObject, not a new parse of the PEM, for every message.
    expect((await keys.get('example.test'))!.privateKey).toBe(first.privateKey);
    now += 10_000; // past the recheck: the file is unchanged, the parsed key stays
    expect((await keys.get('example.test'))!.privateKey).toBe(first.privateKey);
    // Rotation: the operator replaces the key under a new selector and removes the old file.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rotatedPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    fs.writeFileSync(path.join(dir, 'example.test.a2027.pem'), rotatedPem, { mode: 0o600 });
    fs.rmSync(path.join(dir, 'example.test.sluice.pem'));
    now += 1_000; // within recheckMs: the cached key still signs
    expect((await keys.get('example.test'))!.selector).toBe('sluice');
    now += 5_000;
    const rotated = (await keys.get('example.test'))!;
    expect(rotated).toMatchObject({ selector: 'a2027', privateKeyPem: rotatedPem });
    expect(rotated.privateKey.equals(privateKey)).toBe(true);
    // A key rewritten in place (same name, other content) is picked up too.
    const { privateKey: third } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    fs.writeFileSync(path.join(dir, 'example.test.a2027.pem'), third.export({ type: 'pkcs8', format: 'pem' }).toString() + '\n');
    now += 5_000;
    expect((await keys.get('example.test'))!.privateKey.equals(third)).toBe(true);
  });
});
