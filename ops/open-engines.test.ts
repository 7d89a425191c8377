/**
 * The composition root's engines: the embedded defaults in the data folder, and a distributed
 * engine that does not answer failing with its name and address (a closed loopback port: no
 * engine needed; the engines themselves are tested in test/distributed.e2e.distributed.test.ts).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { openApp } from './app.ts';
import { EngineError, openBlobStore, openLog, openMailStore, openSearchIndex } from './open-engines.ts';

const dataDir = () => mkdtempSync(join(tmpdir(), 'sluice-engines-'));

describe('open-engines', () => {
  it('opens the embedded engines in the data folder by default, and closes them', async () => {
    const dir = dataDir();
    const app = await openApp(loadConfig({ env: {}, overrides: { dataDir: dir } }), pino({ level: 'silent' }));
    const id = await app.blobs.put(Buffer.from('hello'));
    await app.store.addDomain('example.test');
    await app.close();
    for (const f of ['log.db', 'mail.db', 'search.db', 'blobs.db']) expect(existsSync(join(dir, f)), f).toBe(true);
    const again = await openBlobStore(loadConfig({ env: {}, overrides: { dataDir: dir } }));
    expect((await again.get(id)).toString()).toBe('hello');
    await again.close();
  });

  it('names the engine and its address when it does not answer', async () => {
    const env = {
      SLUICE_ENGINES_STORE_KIND: 'cassandra',
      SLUICE_ENGINES_STORE_CONTACT_POINTS: '127.0.0.1:1',
      SLUICE_ENGINES_SEARCH_KIND: 'opensearch',
      SLUICE_ENGINES_SEARCH_NODE: 'http://127.0.0.1:1',
      SLUICE_ENGINES_BLOBS_KIND: 's3',
      SLUICE_ENGINES_BLOBS_ENDPOINT: 'http://127.0.0.1:1',
      SLUICE_ENGINES_BLOBS_BUCKET: 'mail',
      SLUICE_ENGINES_BLOBS_ACCESS_KEY_ID: 'k',
      SLUICE_ENGINES_BLOBS_SECRET_ACCESS_KEY: 's',
      SLUICE_ENGINES_LOG_KIND: 'kafka',
      SLUICE_ENGINES_LOG_BROKERS: '127.0.0.1:1',
      SLUICE_ENGINES_LOG_TOPIC_PREFIX: 'test.',
    };
    const config = loadConfig({ env, overrides: { dataDir: dataDir() } });
    await expect(openMailStore(config)).rejects.toThrow(/^store engine cassandra at 127\.0\.0\.1:1 \(data center datacenter1, keyspace sluice\) cannot be used: /);
    await expect(openSearchIndex(config)).rejects.toThrow(/^search engine opensearch at http:\/\/127\.0\.0\.1:1 index sluice-mail cannot be used: /);
    await expect(openBlobStore(config)).rejects.toThrow(/^blobs engine s3 at http:\/\/127\.0\.0\.1:1 bucket mail cannot be used: /);
    await expect(openLog(config, [])).rejects.toThrow(/^log engine kafka at 127\.0\.0\.1:1 \(topic prefix test\.\) cannot be used: /);
    const app = openApp(config, pino({ level: 'silent' }));
    await expect(app).rejects.toBeInstanceOf(EngineError);
  }, 60_000);

  it('names the schema registry when it does not answer, and leaves no log open', async () => {
    const dir = dataDir();
    const config = loadConfig({ env: { SLUICE_ENGINES_SCHEMAS_KIND: 'registry', SLUICE_ENGINES_SCHEMAS_URL: 'http://127.0.0.1:1/apis/ccompat/v7' }, overrides: { dataDir: dir } });
    await expect(openLog(config, [])).rejects.toThrow(/^schemas engine registry at http:\/\/127\.0\.0\.1:1\/apis\/ccompat\/v7 cannot be used: PUT .*no answer/);
    // The embedded log it opened first was closed again: another connection can take it.
    const log = await openLog(loadConfig({ env: {}, overrides: { dataDir: dir } }), []);
    await log.close();
  });
});
