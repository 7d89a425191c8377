import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSearchIndexConformance } from './conformance.ts';
import { buildMatch, ftsString } from './fts-query.ts';
import Database from 'better-sqlite3';
import { applyMigrations } from '../sqlite-file.ts';
import { ownerToken, SEARCH_MIGRATIONS, SqliteSearchIndex } from './sqlite.ts';

runSearchIndexConformance('sqlite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
  const file = path.join(dir, 'search.db');
  const opened = [new SqliteSearchIndex({ path: file })];
  return {
    index: opened[0],
    reopen: async () => {
      const index = new SqliteSearchIndex({ path: file });
      opened.push(index);
      return index;
    },
    cleanup: async () => {
      for (const index of opened) await index.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

// The same, with IMAP substring matches answered by reader threads (substring-readers.ts).
runSearchIndexConformance('sqlite with reader threads', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
  const file = path.join(dir, 'search.db');
  const opened = [new SqliteSearchIndex({ path: file, readers: 2 })];
  await opened[0].startReaders();
  return {
    index: opened[0],
    reopen: async () => {
      const index = new SqliteSearchIndex({ path: file, readers: 2 });
      await index.startReaders();
      opened.push(index);
      return index;
    },
    cleanup: async () => {
      for (const index of opened) await index.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

// The same, with the writes made by a writer thread (index-writer.ts).
runSearchIndexConformance('sqlite with a writer thread', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
  const file = path.join(dir, 'search.db');
  const opened = [new SqliteSearchIndex({ path: file, writerThread: true })];
  return {
    index: opened[0],
    reopen: async () => {
      const index = new SqliteSearchIndex({ path: file, writerThread: true });
      opened.push(index);
      return index;
    },
    cleanup: async () => {
      for (const index of opened) await index.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('FTS5 MATCH building', () => {
  it('quotes every value as one FTS5 string, doubling quotes', () => {
    expect(ftsString('a "b" c')).toBe('"a ""b"" c"');
    expect(buildMatch('uX', [{ field: 'subject', value: 'x" OR owner:"uY' }])).toBe(
      'owner : "uX" AND subject : "x"" OR owner:""uY"*',
    );
  });

  it('searches every text column (not the owner) for field "text" and skips blank values', () => {
    expect(buildMatch('uX', [{ field: 'text', value: 'hi' }, { field: 'body', value: ' ' }])).toBe(
      'owner : "uX" AND {from_addr to_addr cc_addr subject body attachments} : "hi"*',
    );
  });
});

describe('SqliteSearchIndex upgrade', () => {
  it('adds the substring table to a version-1 file; its documents stay word-searchable and count as not indexed for IMAP', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
    try {
      const file = path.join(dir, 'search.db');
      const v1 = new Database(file);
      applyMigrations(v1, SEARCH_MIGRATIONS.slice(0, 1), 'search index');
      v1.close();
      const old = new SqliteSearchIndex({ path: file }); // migrates 1 → 2
      await old.close();
      const index = new SqliteSearchIndex({ path: file });
      const doc = { messageKey: 'k1', userId: 'a@x.test', mailboxId: 1, uid: 1, receivedAt: 1, from: '', to: '', cc: '', subject: 'hello', body: 'old words', attachments: '' };
      await index.index([doc]);
      expect((await index.search({ userId: 'a@x.test', terms: [{ field: 'body', value: 'old' }] })).length).toBe(1);
      expect(await index.indexedUids('a@x.test', 1)).toEqual(new Set());
      expect(await index.matchUids('a@x.test', 1, { in: 'body', needle: 'old' })).toEqual(new Set());
      await index.index([{ ...doc, headers: 'subject: hello' }]);
      expect(await index.indexedUids('a@x.test', 1)).toEqual(new Set([1]));
      expect(await index.matchUids('a@x.test', 1, { in: 'body', needle: 'ld wo' })).toEqual(new Set([1]));
      await index.close();
      const version = new Database(file);
      expect(version.pragma('user_version', { simple: true })).toBe(SEARCH_MIGRATIONS.length);
      version.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteSearchIndex durability', () => {
  it('settles each write (index, remove, relocate, copy) only once an fsync of the WAL begun after its commit has ended', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
    const file = path.join(dir, 'search.db');
    const syncs: { docs: number; release: () => void }[] = [];
    const index = new SqliteSearchIndex({ path: file, syncFile: () => new Promise<void>((release) => syncs.push({ docs: docs(), release })) });
    const reader = new Database(file, { readonly: true });
    const docs = () => reader.prepare('SELECT count(*) FROM docs').pluck().get() as number;
    try {
      const doc = { messageKey: 'k1', userId: 'a@x.test', mailboxId: 1, uid: 1, receivedAt: 1, from: '', to: '', cc: '', subject: 'hello', body: 'words', attachments: '' };
      const writes: [string, () => Promise<void>][] = [
        ['index', () => index.index([doc])],
        ['relocate', () => index.relocate([{ messageKey: 'k1', mailboxId: 2, uid: 5 }])],
        ['copy', () => index.copy([{ fromKey: 'k1', toKey: 'k2', mailboxId: 3, uid: 1 }])],
        ['remove', () => index.remove(['k1'])],
      ];
      for (const [i, [what, write]] of writes.entries()) {
        let done = false;
        const writing = write().then(() => (done = true));
        await new Promise((r) => setTimeout(r, 10));
        expect(syncs, what).toHaveLength(i + 1);
        expect(done, what).toBe(false);
        syncs[i].release();
        await writing;
      }
      expect(syncs.map((s) => s.docs)).toEqual([1, 1, 2, 1]); // each commit written before its fsync began
    } finally {
      reader.close();
      await index.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ownerToken', () => {
  it('is the same token for every spelling of a user id, and differs between users (remembered or not)', () => {
    const first = ownerToken('Alice@Example.test');
    expect(first).toMatch(/^u[0-9a-f]{24}$/);
    expect(ownerToken('alice@example.test')).toBe(first);
    expect(ownerToken('Alice@Example.test')).toBe(first);
    expect(ownerToken('bob@example.test')).not.toBe(first);
    // Past the memo's size it is cleared, and the answers stay the same.
    for (let i = 0; i < 10_050; i++) ownerToken(`user${i}@example.test`);
    expect(ownerToken('ALICE@example.test')).toBe(first);
  });
});
