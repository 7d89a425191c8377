/**
 * DKIM keys as files in the data folder: `dkim/<domain>.<selector>.pem` (mode 0600). A key is
 * created with an exclusive open, so two processes making the same domain's key at once end
 * with one key.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SELECTOR, type DkimKey, type DkimKeys } from './keys.ts';

export class FsDkimKeys implements DkimKeys {
  constructor(private readonly dir: string) {}

  async get(domain: string): Promise<DkimKey | null> {
    const name = domain.toLowerCase();
    let files: string[];
    try {
      files = readdirSync(this.dir);
    } catch {
      return null;
    }
    const file = files.filter((f) => f.startsWith(`${name}.`) && f.endsWith('.pem')).sort()[0];
    if (!file) return null;
    const selector = file.slice(name.length + 1, -'.pem'.length);
    return { domain: name, selector, privateKeyPem: readFileSync(join(this.dir, file), 'utf8') };
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
    return { key: { domain: name, selector: DEFAULT_SELECTOR, privateKeyPem: pem }, created: true };
  }
}
