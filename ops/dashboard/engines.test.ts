import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkEngines } from './engines.ts';
import { EmbeddedLog } from '../../connectors/log/embedded.ts';
import { SqliteMailStore } from '../../connectors/store/sqlite.ts';
import { SqliteSearchIndex } from '../../connectors/search/sqlite.ts';
import { FsBlobStore } from '../../connectors/blob/fs.ts';
import { ClamdScanner } from '../../connectors/scan/clamd.ts';
import { freePort } from '../../test/harness/server.ts';

describe('checkEngines', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('reports each engine up with its kind, and red the ones that are down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-engines-'));
    dirs.push(dir);
    const log = new EmbeddedLog({ path: join(dir, 'log.db') });
    const store = new SqliteMailStore({ path: join(dir, 'mail.db') });
    const search = new SqliteSearchIndex({ path: join(dir, 'search.db') });
    mkdirSync(join(dir, 'data', 'blobs'), { recursive: true });
    const blobs = new FsBlobStore({ dir: join(dir, 'data', 'blobs') });
    const clamd = new ClamdScanner({ address: `127.0.0.1:${await freePort()}` });
    const checks = { log, store, search, blobs, clamd, rspamd: null };
    try {
      const up = await checkEngines(checks);
      expect(up.map((e) => [e.engine, e.kind, e.ok, e.configured])).toEqual([
        ['log', 'embedded', true, true],
        ['store', 'sqlite', true, true],
        ['search', 'sqlite', true, true],
        ['blobs', 'files', true, true],
        ['clamd', 'clamd', false, true],
        ['rspamd', 'rspamd', false, false],
      ]);

      // The store's engine stops (its database closed); the blobs' folder and the one above go away.
      await store.close();
      rmSync(join(dir, 'data'), { recursive: true, force: true });
      const down = Object.fromEntries((await checkEngines(checks)).map((e) => [e.engine, e]));
      expect(down.store).toMatchObject({ kind: 'sqlite', ok: false });
      expect(down.store.error).toMatch(/not open/);
      expect(down.blobs).toMatchObject({ kind: 'files', ok: false });
      expect(down.blobs.error).toMatch(/ENOENT/);
      expect(down.log.ok).toBe(true);
    } finally {
      await log.close();
      await search.close();
    }
  });
});
