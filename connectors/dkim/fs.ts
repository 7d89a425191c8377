/**
 * DKIM keys as files in the data folder: `dkim/<domain>.<selector>.pem` (mode 0600). A key is
 * created with an exclusive open, so two processes making the same domain's key at once end
 * with one key.
 *
 * Parsed keys are cached per domain (the PEM is read and parsed once, not for every message
 * `prepare` signs). The folder is looked at again at most every `recheckMs` (default 5 s) per
 * domain: a key file replaced, rewritten (other mtime or size) or removed — a rotated key,
 * possibly under a new selector — is used from the next check on. Until then the old key
 * signs, which verifiers accept as long as its TXT record is still published (rotate by
 * publishing the new selector first, RFC 6376 §3.1).
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SELECTOR, type DkimKey, type DkimKeys } from './keys.ts';

export interface FsDkimKeysOptions {
  /** How long a cached key is used before the folder is looked at again, ms (default 5000). */
  readonly recheckMs?: number;
  /** The clock (tests). */
  readonly now?: () => number;
}

interface Cached {
  readonly key: DkimKey;
  readonly file: string;
  readonly mtimeMs: number;
  readonly size: number;
  checkedAt: number;
}

function keyFromPem(domain: string, selector: string, pem: string): DkimKey {
  return { domain, selector, privateKeyPem: pem, privateKey: createPrivateKey({ key: pem, format: 'pem' }) };
}

export class FsDkimKeys implements DkimKeys {
  private readonly cache = new Map<string, Cached>();
  private readonly recheckMs: number;
  private readonly now: () => number;

  constructor(
    private readonly dir: string,
    options: FsDkimKeysOptions = {},
  ) {
    this.recheckMs = options.recheckMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  async get(domain: string): Promise<DkimKey | null> {
    const name = domain.toLowerCase();
    const now = this.now();
    const cached = this.cache.get(name);
    if (cached && now - cached.checkedAt < this.recheckMs) return cached.key;
    let files: string[];
    try {
      files = readdirSync(this.dir);
    } catch {
      this.cache.delete(name);
      return null;
    }
    const file = files.filter((f) => f.startsWith(`${name}.`) && f.endsWith('.pem')).sort()[0];
    if (!file) {
      this.cache.delete(name);
      return null;
    }
    const path = join(this.dir, file);
    const { mtimeMs, size } = statSync(path);
    if (cached && cached.file === file && cached.mtimeMs === mtimeMs && cached.size === size) {
      cached.checkedAt = now;
      return cached.key;
    }
    const key = keyFromPem(name, file.slice(name.length + 1, -'.pem'.length), readFileSync(path, 'utf8'));
    this.cache.set(name, { key, file, mtimeMs, size, checkedAt: now });
    return key;
  }

  async ensure(domain: string): Promise<{ key: DkimKey; created: boolean }> {
    const existing = await this.get(domain);
    if (existing) return { key: existing, created: false };
    const name = domain.toLowerCase();
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      writeFileSync(join(this.dir, `${name}.${DEFAULT_SELECTOR}.pem`), pem, { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const raced = await this.get(name);
      if (raced) return { key: raced, created: false };
      throw err;
    }
    return { key: (await this.get(name)) ?? keyFromPem(name, DEFAULT_SELECTOR, pem), created: true };
  }
}
