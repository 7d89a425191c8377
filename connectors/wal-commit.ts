/**
 * Durable SQLite commits whose fsync does not block the event loop.
 *
 * With `synchronous = FULL` (how `openDurableDatabase` opens every file) SQLite fsyncs the WAL
 * inside COMMIT, on the calling thread: ~1–2 ms on an idle disk, ~10 ms on a busy one, during
 * which the pipeline thread runs no other stage (or the main thread answers no client). A
 * `WalCommitter` runs the transaction with `synchronous = NORMAL` instead — SQLite then writes
 * the WAL frames without syncing them — and fsyncs the `-wal` file itself on libuv's thread pool
 * (`fdatasync`, as SQLite does), then resolves. Durability is the same as FULL's: the promise
 * settles only once every byte of the commit is on disk; nothing that waits for it (a log offset
 * commit, an SMTP 250) can run sooner. Commits made while an fsync is running share the next one
 * (group commit across callers), so a burst costs one fsync, not one each.
 *
 * What differs: other connections can read the commit during its fsync (under FULL they see it
 * after). Every caller is a sink or store whose write is redone from the log if a power cut
 * drops it (its offset commit waits for the fsync), with the same result (ids, UIDs and MODSEQs
 * follow from log order), so a reader can only have seen early what comes back the same.
 * A kill -9 loses nothing either way: the frames are in the OS's cache once COMMIT returns.
 *
 * Other writes on the connection stay FULL: `write` sets NORMAL for its own transaction only.
 */
import { dirname } from 'node:path';
import fs from 'node:fs/promises';
import type Database from 'better-sqlite3';

/** fsyncs one file (by default `fdatasync` of a handle kept open). Replaceable in tests. */
export type FileSync = (path: string) => Promise<void>;

/**
 * fsyncs one WAL file on libuv's thread pool; calls made while an fsync runs share the next one,
 * which starts when it ends (so each caller's fsync began after its call: after its commit).
 */
export class WalSyncer {
  private readonly syncFile: FileSync;
  private handle: fs.FileHandle | undefined;
  private dirSynced = false;
  /** The fsync running now, if any. */
  private running: Promise<void> | undefined;
  /** The fsync that starts when `running` ends, shared by every call made meanwhile. */
  private queued: Promise<void> | undefined;
  private count = 0;

  constructor(
    private readonly walPath: string,
    syncFile?: FileSync,
  ) {
    this.syncFile = syncFile ?? ((path) => this.datasync(path));
  }

  /** Resolves once an fsync that started after this call has ended. */
  sync(): Promise<void> {
    if (this.running === undefined) return this.start();
    // The running fsync may have started before the caller's frames were written: the next one.
    this.queued ??= this.running.then(noop, noop).then(() => {
      this.queued = undefined;
      return this.start();
    });
    return this.queued;
  }

  /** fsyncs started so far (for tests and stats). */
  get syncs(): number {
    return this.count;
  }

  /** Waits for the fsyncs under way, then closes the WAL handle. */
  async close(): Promise<void> {
    await this.queued?.catch(noop);
    await this.running?.catch(noop);
    await this.handle?.close();
    this.handle = undefined;
  }

  private start(): Promise<void> {
    const run = this.syncFile(this.walPath).finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    this.count++;
    return run;
  }

  /**
   * fdatasync of the WAL through a handle kept open (the WAL keeps its inode while this
   * connection is open: SQLite deletes it only when the last connection closes). The first time,
   * the folder too: the WAL file's own directory entry must be durable (SQLite does the same on
   * its first sync of a new WAL).
   */
  private async datasync(path: string): Promise<void> {
    this.handle ??= await fs.open(path, 'r');
    await this.handle.datasync();
    if (!this.dirSynced) {
      const dir = await fs.open(dirname(path), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      this.dirSynced = true;
    }
  }
}

/** The `-wal` file of a database in WAL mode (throws for any other journal mode). */
export function walPathOf(db: Database.Database): string {
  const mode = db.pragma('journal_mode', { simple: true });
  if (mode !== 'wal') throw new Error(`an fsync off the event loop needs a WAL database, ${db.name} is in ${String(mode)} mode`);
  return `${db.name}-wal`;
}

export class WalCommitter {
  private readonly normal: Database.Statement;
  private readonly full: Database.Statement;
  private readonly syncer: WalSyncer;
  private closed = false;
  private commits = 0;

  constructor(
    private readonly db: Database.Database,
    options: { syncFile?: FileSync } = {},
  ) {
    this.syncer = new WalSyncer(walPathOf(db), options.syncFile);
    this.normal = db.prepare('PRAGMA synchronous = NORMAL');
    this.full = db.prepare('PRAGMA synchronous = FULL');
  }

  /**
   * Runs `body` in one BEGIN IMMEDIATE transaction and resolves with its value once the commit is
   * on disk (rejects if the body throws — nothing is written — or if the fsync fails).
   * `committed`, if given, is called with the value as soon as the commit is visible to other
   * connections, before its fsync.
   */
  async write<T>(body: () => T, committed?: (value: T) => void): Promise<T> {
    if (this.closed) throw new Error(`${this.db.name}: closed`);
    if (this.db.inTransaction) throw new Error(`${this.db.name}: WalCommitter.write inside another transaction`);
    this.normal.run();
    let value: T;
    try {
      value = this.db.transaction(body).immediate();
    } finally {
      this.full.run();
    }
    this.commits++;
    const synced = this.syncer.sync();
    try {
      committed?.(value);
    } finally {
      // Even when `committed` throws, the write settles only after its fsync (and with its error).
      await synced;
    }
    return value;
  }

  /** Commits and fsyncs so far (for tests). */
  stats(): { commits: number; syncs: number } {
    return { commits: this.commits, syncs: this.syncer.syncs };
  }

  /** Waits for the fsyncs under way, then closes the WAL handle (call before closing the database). */
  async close(): Promise<void> {
    this.closed = true;
    await this.syncer.close();
  }
}

function noop(): void {}
