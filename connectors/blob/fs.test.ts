import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobNotFoundError } from './blob.ts';
import { FsBlobStore } from './fs.ts';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('FsBlobStore', () => {
  let dir: string;
  let store: FsBlobStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
    store = new FsBlobStore({ dir: path.join(dir, 'blobs') });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores bytes under their SHA-256 at dir/ab/cd/<hex> and reads them back', async () => {
    const bytes = Buffer.from('Subject: hi\r\n\r\nhello\r\n');
    const id = await store.put(bytes);
    expect(id).toBe(sha256(bytes));
    expect(fs.existsSync(path.join(dir, 'blobs', id.slice(0, 2), id.slice(2, 4), id))).toBe(true);
    expect(await store.get(id)).toEqual(bytes);
    expect(await store.has(id)).toBe(true);
  });

  it('stores the empty blob and binary bytes exactly', async () => {
    const empty = await store.put(Buffer.alloc(0));
    expect((await store.get(empty)).length).toBe(0);
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(await store.get(await store.put(binary))).toEqual(binary);
  });

  it('deduplicates: the same bytes twice are one file, and concurrent puts agree', async () => {
    const bytes = Buffer.alloc(100_000, 'x');
    const ids = await Promise.all(Array.from({ length: 8 }, () => store.put(bytes)));
    expect(new Set(ids).size).toBe(1);
    expect(await store.put(bytes)).toBe(ids[0]);
    const leaf = path.join(dir, 'blobs', ids[0].slice(0, 2), ids[0].slice(2, 4));
    expect(fs.readdirSync(leaf)).toEqual([ids[0]]); // no temp files left behind
  });

  it('does not rewrite an existing blob', async () => {
    const bytes = Buffer.from('once');
    const id = await store.put(bytes);
    const file = path.join(dir, 'blobs', id.slice(0, 2), id.slice(2, 4), id);
    const before = fs.statSync(file).ino;
    await store.put(bytes);
    expect(fs.statSync(file).ino).toBe(before);
  });

  it('throws BlobNotFoundError for a missing or malformed id', async () => {
    const missing = sha256(Buffer.from('never stored'));
    await expect(store.get(missing)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.get('../../etc/passwd')).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await store.has(missing)).toBe(false);
    expect(await store.has('../x')).toBe(false);
  });

  it('deletes, and deleting a missing blob is a no-op', async () => {
    const id = await store.put(Buffer.from('short-lived'));
    await store.delete(id);
    expect(await store.has(id)).toBe(false);
    await expect(store.get(id)).rejects.toThrow(BlobNotFoundError);
    await store.delete(id);
  });

  it('keeps blobs across close and reopen', async () => {
    const bytes = Buffer.from('durable');
    const id = await store.put(bytes);
    await store.close();
    await expect(store.get(id)).rejects.toThrow(/closed/);
    store = new FsBlobStore({ dir: path.join(dir, 'blobs') });
    expect(await store.get(id)).toEqual(bytes);
  });

  it('handles many distinct concurrent puts', async () => {
    const blobs = Array.from({ length: 50 }, (_, i) => Buffer.from(`blob number ${i}`));
    const ids = await Promise.all(blobs.map((b) => store.put(b)));
    expect(ids).toEqual(blobs.map(sha256));
    const back = await Promise.all(ids.map((id) => store.get(id)));
    expect(back).toEqual(blobs);
  });
});
