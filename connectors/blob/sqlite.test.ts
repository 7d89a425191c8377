import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { SqliteBlobStore } from './sqlite.ts';

describe('SqliteBlobStore durability', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('resolves a put (the 250 waits for it) only once the WAL holding it is fsynced; puts meanwhile share the next fsync', async () => {
    const syncs: (() => void)[] = [];
    const store = new SqliteBlobStore({ path: path.join(dir, 'blobs.db'), syncFile: () => new Promise<void>((release) => syncs.push(release)) });
    const resolved: string[] = [];
    const put = (text: string) => store.put(Buffer.from(text)).then((id) => (resolved.push(text), id));
    const a = put('a');
    const b = put('b'); // same turn: the same transaction and fsync
    await new Promise((r) => setTimeout(r, 10));
    expect(syncs).toHaveLength(1);
    const c = put('c');
    const d = put('d');
    await new Promise((r) => setTimeout(r, 10));
    expect(syncs).toHaveLength(1); // c and d are committed, and wait for the fsync after the running one
    expect(resolved).toEqual([]);
    syncs[0]();
    await Promise.all([a, b]);
    await new Promise((r) => setTimeout(r, 10));
    expect(resolved).toEqual(['a', 'b']);
    expect(syncs).toHaveLength(2);
    syncs[1]();
    const ids = await Promise.all([a, b, c, d]);
    expect(resolved).toEqual(['a', 'b', 'c', 'd']);
    expect((await store.get(ids[3])).toString()).toBe('d');
    await store.close();
  });

  it('upgrades a file from before migrations: the blobs move into a rowid table, every one still found by its id', async () => {
    const file = path.join(dir, 'blobs.db');
    const old = new Database(file);
    old.exec('CREATE TABLE blobs (id TEXT PRIMARY KEY, bytes BLOB NOT NULL) WITHOUT ROWID');
    const blobs = [Buffer.from('small'), Buffer.alloc(40_000, 7), Buffer.from('x'.repeat(5000))];
    const ids = blobs.map((b) => createHash('sha256').update(b).digest('hex'));
    for (let i = 0; i < blobs.length; i++) old.prepare('INSERT INTO blobs (id, bytes) VALUES (?, ?)').run(ids[i], blobs[i]);
    old.close();

    const store = new SqliteBlobStore({ path: file });
    for (let i = 0; i < blobs.length; i++) expect((await store.get(ids[i])).equals(blobs[i])).toBe(true);
    expect(await store.put(blobs[1])).toBe(ids[1]); // already there: kept once
    const added = await store.put(Buffer.from('new'));
    expect((await store.get(added)).toString()).toBe('new');
    await store.close();

    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(2);
    expect(check.prepare("SELECT sql FROM sqlite_master WHERE name = 'blobs'").pluck().get()).not.toMatch(/WITHOUT ROWID/i);
    expect(check.prepare('SELECT count(*) FROM blobs').pluck().get()).toBe(4);
    check.close();
  });
});
