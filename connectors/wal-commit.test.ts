import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDurableDatabase } from './sqlite-file.ts';
import { WalCommitter } from './wal-commit.ts';

/** A FileSync that waits until the test lets it go, and records what it was asked to sync. */
function gatedSync() {
  const calls: { path: string; rowsAtStart: number; release: () => void }[] = [];
  let rows = (): number => 0;
  return {
    calls,
    countRowsWith(count: () => number) {
      rows = count;
    },
    sync: (file: string) =>
      new Promise<void>((resolve) => {
        calls.push({ path: file, rowsAtStart: rows(), release: resolve });
      }),
  };
}

const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
};

describe('WalCommitter', () => {
  let dir: string;
  let db: Database.Database;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-wal-'));
    db = openDurableDatabase(path.join(dir, 'x.db'), (d) => d.exec('CREATE TABLE t (v INTEGER)'));
  });
  afterEach(() => {
    if (db.open) db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('resolves a write only after the WAL has been synced, by a sync that started after the commit', async () => {
    const gate = gatedSync();
    const committer = new WalCommitter(db, { syncFile: gate.sync });
    gate.countRowsWith(() => db.prepare('SELECT count(*) FROM t').pluck().get() as number);
    const write = committer.write(() => db.prepare('INSERT INTO t VALUES (1)').run().changes);
    expect(gate.calls).toHaveLength(1);
    expect(gate.calls[0].path).toBe(`${db.name}-wal`);
    expect(gate.calls[0].rowsAtStart).toBe(1); // the commit was written before the sync began
    expect(await settled(write)).toBe(false); // not durable yet: not resolved
    gate.calls[0].release();
    await expect(write).resolves.toBe(1);
  });

  it('tells `committed` of a write once other connections can read it, before its fsync has ended', async () => {
    const gate = gatedSync();
    const committer = new WalCommitter(db, { syncFile: gate.sync });
    const other = new Database(db.name, { readonly: true });
    const seen: { value: number; rows: number; syncs: number }[] = [];
    const write = committer.write(
      () => db.prepare('INSERT INTO t VALUES (1)').run().changes,
      (value) => seen.push({ value, rows: other.prepare('SELECT count(*) FROM t').pluck().get() as number, syncs: gate.calls.length }),
    );
    expect(seen).toEqual([{ value: 1, rows: 1, syncs: 1 }]); // the fsync had started, not ended
    expect(await settled(write)).toBe(false);
    gate.calls[0].release();
    await expect(write).resolves.toBe(1);
    other.close();
  });

  it('commits made during a running sync share the next one; none resolves before its own', async () => {
    const gate = gatedSync();
    const committer = new WalCommitter(db, { syncFile: gate.sync });
    gate.countRowsWith(() => db.prepare('SELECT count(*) FROM t').pluck().get() as number);
    const first = committer.write(() => db.prepare('INSERT INTO t VALUES (1)').run());
    const second = committer.write(() => db.prepare('INSERT INTO t VALUES (2)').run());
    const third = committer.write(() => db.prepare('INSERT INTO t VALUES (3)').run());
    expect(gate.calls).toHaveLength(1); // the second and third wait for the first sync to end
    gate.calls[0].release();
    await first;
    expect(await settled(second)).toBe(false);
    expect(await settled(third)).toBe(false);
    expect(gate.calls).toHaveLength(2);
    expect(gate.calls[1].rowsAtStart).toBe(3);
    gate.calls[1].release();
    await Promise.all([second, third]);
    expect(committer.stats()).toEqual({ commits: 3, syncs: 2 });
  });

  it('writes nothing when the body throws, and a failed sync rejects the write', async () => {
    const committer = new WalCommitter(db, { syncFile: () => Promise.reject(new Error('EIO')) });
    await expect(
      committer.write(() => {
        db.prepare('INSERT INTO t VALUES (1)').run();
        throw new Error('bad record');
      }),
    ).rejects.toThrow('bad record');
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(0);
    await expect(committer.write(() => db.prepare('INSERT INTO t VALUES (2)').run())).rejects.toThrow('EIO');
  });

  it('leaves the connection at synchronous=FULL, so its other writes are fsynced by SQLite as before', async () => {
    const committer = new WalCommitter(db);
    await committer.write(() => db.prepare('INSERT INTO t VALUES (1)').run());
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    await expect(
      committer.write(() => {
        throw new Error('x');
      }),
    ).rejects.toThrow();
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    await committer.close();
  });

  it('syncs the real WAL file: the data is there for another connection, and after a reopen', async () => {
    const committer = new WalCommitter(db);
    await Promise.all([1, 2, 3].map((v) => committer.write(() => db.prepare('INSERT INTO t VALUES (?)').run(v))));
    const other = new Database(db.name, { readonly: true });
    expect(other.prepare('SELECT count(*) FROM t').pluck().get()).toBe(3);
    other.close();
    await committer.close();
    db.close();
    db = openDurableDatabase(path.join(dir, 'x.db'));
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(3);
  });

  it('refuses a database that is not in WAL mode, and a write inside another transaction', () => {
    const plain = new Database(path.join(dir, 'plain.db'));
    expect(() => new WalCommitter(plain)).toThrow(/WAL database/);
    plain.close();
    const committer = new WalCommitter(db);
    db.exec('BEGIN');
    return expect(committer.write(() => 1)).rejects.toThrow(/inside another transaction/).finally(() => db.exec('ROLLBACK'));
  });
});
