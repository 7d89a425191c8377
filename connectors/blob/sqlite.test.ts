import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
});
