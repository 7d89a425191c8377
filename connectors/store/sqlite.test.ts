import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMailStoreConformance } from './conformance.ts';
import { SqliteMailStore } from './sqlite.ts';
import { MIGRATIONS, migrate } from './sqlite/schema.ts';
import type { DeliverRequest, MailboxChange } from './store.ts';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
}

runMailStoreConformance('sqlite', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'store.db');
  const opened = [new SqliteMailStore({ path: file })];
  return {
    store: opened[0],
    reopen: async () => {
      const store = new SqliteMailStore({ path: file });
      opened.push(store);
      return store;
    },
    cleanup: async () => {
      for (const store of opened) await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteMailStore specifics', () => {
  let dir: string;
  let file: string;
  let store: SqliteMailStore;

  const req = (messageKey: string, userId: string): DeliverRequest => ({
    messageKey,
    userId,
    mailbox: 'INBOX',
    flags: [],
    receivedAt: 1,
    size: 1,
    body: { skeletonBlob: 'a'.repeat(64), parts: [] },
    messageId: null,
    inReplyTo: null,
    references: [],
    subject: '',
    from: [],
    to: [],
    cc: [],
    date: null,
  });

  beforeEach(async () => {
    dir = tempDir();
    file = path.join(dir, 'store.db');
    store = new SqliteMailStore({ path: file });
    await store.addDomain('example.test');
    await store.addUser('alice@example.test', 'h');
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('applies a batch in one transaction: a bad request rolls the whole batch back', async () => {
    await expect(store.deliver([req('k1', 'alice@example.test'), req('k2', 'nobody@example.test')])).rejects.toThrow(/unknown user/);
    expect(await store.countMessages()).toBe(0);
    expect((await store.mailbox('alice@example.test', 'INBOX'))?.uidNext).toBe(1);
  });

  it('records the schema version, is durable (WAL, synchronous=FULL) and migrates only once', async () => {
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    await store.close();
    store = new SqliteMailStore({ path: file }); // re-opening does not re-run migration 1
    expect(await store.user('alice@example.test')).not.toBeNull();
  });

  it('applies a later migration to an existing file and refuses a file newer than the code', () => {
    const db = new Database(path.join(dir, 'm.db'));
    migrate(db, ['CREATE TABLE a (x INTEGER)']);
    migrate(db, ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (y INTEGER)']);
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all()).toEqual(['a', 'b']);
    expect(() => migrate(db, ['CREATE TABLE a (x INTEGER)'])).toThrow(/newer/);
    db.close();
  });

  it('migrates a file of schema 1: subscriptions for existing mailboxes, settings, UIDVALIDITY after the old ones', async () => {
    const old = path.join(dir, 'v1.db');
    const db = new Database(old);
    migrate(db, MIGRATIONS.slice(0, 1));
    db.exec(`INSERT INTO domains VALUES ('old.test');
      INSERT INTO users VALUES ('bob@old.test', 'Bob@old.test', 'h', 1);
      INSERT INTO mailboxes (user_id, name, special_use, uidvalidity, uidnext, highestmodseq)
        VALUES ('bob@old.test', 'INBOX', '\\Inbox', 4000000000, 1, 0), ('bob@old.test', 'Imported', NULL, 4000000000, 1, 0);`);
    db.close();
    const migrated = new SqliteMailStore({ path: old });
    try {
      expect(await migrated.user('bob@old.test')).toMatchObject({ pop3KeepMail: false, passwordHash: 'h' });
      expect(await migrated.subscriptions('bob@old.test')).toEqual(['INBOX', 'Imported']);
      expect((await migrated.mailbox('bob@old.test', 'Imported'))?.subscribed).toBe(true);
      const [created] = await migrated.apply([{ kind: 'createMailbox', commandId: 'c1', userId: 'bob@old.test', name: 'New', specialUse: null }]);
      expect(created.kind).toBe('mailboxChanged');
      expect((await migrated.mailbox('bob@old.test', 'New'))?.uidValidity).toBe(4000000001);
    } finally {
      await migrated.close();
    }
  });

  it('rolls a whole apply() back when a change throws', async () => {
    await store.deliver([req('k1', 'alice@example.test')]);
    const inbox = (await store.mailbox('alice@example.test', 'INBOX'))!;
    const bad = { kind: 'setFlags', commandId: 'c2', userId: 'alice@example.test', mailboxId: inbox.id, uids: [1], mode: 'add', flags: null } as unknown as MailboxChange;
    await expect(store.apply([
      { kind: 'createMailbox', commandId: 'c1', userId: 'alice@example.test', name: 'Made', specialUse: null },
      bad,
    ])).rejects.toThrow();
    expect(await store.mailbox('alice@example.test', 'Made')).toBeNull();
    const [again] = await store.apply([{ kind: 'createMailbox', commandId: 'c1', userId: 'alice@example.test', name: 'Made', specialUse: null }]);
    expect(again.kind).toBe('mailboxChanged');
  });

  it('delivers a large batch quickly', async () => {
    const started = performance.now();
    const results = await store.deliver(
      Array.from({ length: 2000 }, (_, i) => ({ ...req(`bulk-${i}`, 'alice@example.test'), messageId: `<m${i}@x>`, inReplyTo: i > 0 ? `<m${i - 1}@x>` : null })),
    );
    const elapsed = performance.now() - started;
    expect(results[1999].message.uid).toBe(2000);
    expect(new Set(results.map((r) => r.message.threadId)).size).toBe(1);
    expect(elapsed).toBeLessThan(5000);
  });
});
