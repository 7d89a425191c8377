/**
 * The embedded mail store's SQLite file: pragmas and the schema, as a list of migrations
 * applied in order and recorded in `PRAGMA user_version` (migration i brings the file to
 * version i + 1). Later features (IMAP flags, expunge, folders …) append migrations here;
 * never edit one that has shipped.
 *
 * Durability: WAL with `synchronous = FULL`, so a committed transaction is fsynced before
 * `deliver()` resolves — the runner commits the log offsets after the store write, so the
 * store write must already be on disk by then. (`deliver()` and `apply()` make that fsync
 * themselves, off the event loop: `connectors/wal-commit.ts`.)
 */
import type Database from 'better-sqlite3';
import { applyMigrations, openDurableDatabase } from '../../sqlite-file.ts';

export type Db = Database.Database;

export const MIGRATIONS: readonly string[] = [
  // 1: directory, mailboxes, messages, threads.
  `
  CREATE TABLE domains (
    name TEXT PRIMARY KEY
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE users (
    id TEXT PRIMARY KEY,            -- the lowercase address
    address TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE mailboxes (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    special_use TEXT,
    uidvalidity INTEGER NOT NULL,
    uidnext INTEGER NOT NULL,
    highestmodseq INTEGER NOT NULL,
    subscribed INTEGER NOT NULL DEFAULT 1,
    UNIQUE (user_id, name)
  ) STRICT;

  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    message_key TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id),
    uid INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    thread_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    size INTEGER NOT NULL,
    flags TEXT NOT NULL,             -- JSON array of flag strings
    seen INTEGER NOT NULL,           -- 1 when flags hold \\Seen (unseen counts use an index)
    message_id TEXT,                 -- the Message-ID header as delivered
    in_reply_to TEXT,
    refs TEXT NOT NULL,              -- JSON array: the References header's ids
    subject TEXT NOT NULL,
    from_json TEXT NOT NULL,
    to_json TEXT NOT NULL,
    cc_json TEXT NOT NULL,
    date INTEGER,
    skeleton_blob TEXT NOT NULL,
    parts TEXT NOT NULL,             -- JSON array of { offset, length, blob }
    UNIQUE (mailbox_id, uid)
  ) STRICT;
  -- "Emails by folder, clustered by received time."
  CREATE INDEX messages_by_received ON messages (user_id, mailbox_id, received_at);
  CREATE INDEX messages_unseen ON messages (mailbox_id) WHERE seen = 0;
  CREATE INDEX messages_by_thread ON messages (user_id, thread_id, received_at);
  CREATE INDEX messages_by_message_id ON messages (user_id, message_id) WHERE message_id IS NOT NULL;

  -- Every Message-ID a user's mail has named (its own or referenced) → its thread.
  CREATE TABLE threads (
    user_id TEXT NOT NULL,
    message_id TEXT NOT NULL,        -- normalized: no angle brackets, trimmed
    thread_id TEXT NOT NULL,
    PRIMARY KEY (user_id, message_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX threads_by_thread ON threads (user_id, thread_id);
  `,
  // 2: IMAP/POP3 access — per-user settings, subscriptions, idempotent client changes,
  // expunge tombstones (RFC 7162 §3.2.10 VANISHED), changes since a MODSEQ.
  // (mailboxes.subscribed from migration 1 is no longer read: subscriptions are by name.)
  `
  ALTER TABLE users ADD COLUMN pop3_keep_mail INTEGER NOT NULL DEFAULT 0;
  -- Highest UIDVALIDITY given to any of the user's mailboxes, so that a mailbox created again
  -- under an old name never gets an old UIDVALIDITY back (RFC 9051 §2.3.1.1).
  ALTER TABLE users ADD COLUMN last_uidvalidity INTEGER NOT NULL DEFAULT 0;
  UPDATE users SET last_uidvalidity = (SELECT COALESCE(MAX(uidvalidity), 0) FROM mailboxes WHERE user_id = users.id);

  -- RFC 9051 §6.3.7: subscriptions are names, kept even when the mailbox does not exist.
  CREATE TABLE subscriptions (
    user_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
  ) STRICT, WITHOUT ROWID;
  -- Every mailbox so far counted as subscribed (the old column defaulted to 1).
  INSERT OR IGNORE INTO subscriptions (user_id, name) SELECT user_id, name FROM mailboxes;

  -- Client changes applied, by command id, with their result (a replay returns it).
  CREATE TABLE applied_commands (
    command_id TEXT PRIMARY KEY,
    result TEXT NOT NULL,            -- JSON MailboxChangeResult
    applied_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  -- Expunged UIDs with the MODSEQ of their expunge (QRESYNC VANISHED (EARLIER)).
  CREATE TABLE expunged (
    mailbox_id INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
  ) STRICT, WITHOUT ROWID;

  CREATE INDEX messages_by_modseq ON messages (mailbox_id, modseq);
  `,
  // 3: a covering index for a mailbox's counts (MESSAGES, UNSEEN, SIZE): SELECT, STATUS and every
  // IMAP update read them, and they then scan this index instead of the message rows.
  `
  CREATE INDEX messages_counts ON messages (mailbox_id, seen, size);
  `,
];

/** Opens (creating and migrating if needed) a mail store file. */
export function openStoreDatabase(path: string): Db {
  return openDurableDatabase(path, (db) => {
    db.pragma('foreign_keys = ON');
    migrate(db);
  });
}

/** Applies the store's migrations the file has not seen yet (see `applyMigrations`). */
export function migrate(db: Db, migrations: readonly string[] = MIGRATIONS): void {
  applyMigrations(db, migrations, 'mail store');
}
