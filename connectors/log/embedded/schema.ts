/**
 * The embedded log's SQLite file: pragmas, tables and the prepared statements the log uses.
 *
 * `records` is a rowid table with a unique index on (topic, partition, offset) rather than a
 * WITHOUT ROWID table: values are often a kilobyte or more, and SQLite stores large rows in a
 * WITHOUT ROWID b-tree poorly (measured: about 3× slower appends for 1 KB values).
 * `partitions.end_offset` is the next offset to write; it never goes down, so offsets are never
 * reused, even after retention has deleted every record of a partition.
 */
import type Database from 'better-sqlite3';
import { openDurableDatabase } from '../../sqlite-file.ts';

export type Db = Database.Database;

/** `openDurableDatabase`'s wait for another writer. */
const BUSY_TIMEOUT_MS = 5000;

const DDL = `
CREATE TABLE IF NOT EXISTS topics (
  name TEXT PRIMARY KEY,
  partitions INTEGER NOT NULL,
  retention_ms INTEGER
) STRICT;
CREATE TABLE IF NOT EXISTS partitions (
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  end_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  key TEXT NOT NULL,
  value BLOB NOT NULL,
  headers TEXT,
  timestamp INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS records_position ON records (topic, partition, offset);
CREATE TABLE IF NOT EXISTS offsets (
  group_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (group_id, topic, partition)
) STRICT, WITHOUT ROWID;
`;

/** Opens (creating if needed) a log file: WAL, every commit fsynced, 5 s busy wait. */
export function openLogDatabase(path: string): Db {
  return openDurableDatabase(path, (db) => {
    db.pragma('journal_size_limit = 67108864');
    db.transaction(() => db.exec(DDL)).immediate();
  });
}

export interface RecordRow {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly value: Buffer;
  readonly headers: string | null;
  readonly timestamp: number;
}

export interface TopicRow {
  readonly name: string;
  readonly partitions: number;
  readonly retention_ms: number | null;
}

export interface PartitionRow {
  readonly topic: string;
  readonly partition: number;
  readonly end_offset: number;
}

export type Statements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Db) {
  return {
    dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
    // A group commit first tries the write lock without waiting (`EmbeddedLog.flush`).
    noBusyWait: db.prepare('PRAGMA busy_timeout = 0'),
    busyWait: db.prepare(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`),
    beginImmediate: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    allTopics: db.prepare<[], TopicRow>('SELECT name, partitions, retention_ms FROM topics ORDER BY name'),
    topic: db.prepare<[string], TopicRow>('SELECT name, partitions, retention_ms FROM topics WHERE name = ?'),
    allPartitions: db.prepare<[], PartitionRow>('SELECT topic, partition, end_offset FROM partitions'),
    insertTopic: db.prepare<[string, number, number | null]>(
      'INSERT INTO topics (name, partitions, retention_ms) VALUES (?, ?, ?)',
    ),
    updateTopic: db.prepare<[number, number | null, string]>(
      'UPDATE topics SET partitions = ?, retention_ms = ? WHERE name = ?',
    ),
    insertPartition: db.prepare<[string, number]>(
      'INSERT OR IGNORE INTO partitions (topic, partition, end_offset) VALUES (?, ?, 0)',
    ),
    ends: db.prepare<[string], number>('SELECT end_offset FROM partitions WHERE topic = ? ORDER BY partition').pluck(),
    setEnd: db.prepare<[number, string, number]>('UPDATE partitions SET end_offset = ? WHERE topic = ? AND partition = ?'),
    insertRecord: db.prepare<[string, number, number, string, Buffer, string | null, number]>(
      'INSERT INTO records (topic, partition, offset, key, value, headers, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    // `LIMIT (? + 0)`, not `LIMIT ?`: SQLite (3.53) reads a bare bound LIMIT as a constant while
    // planning and so expires the statement whenever that parameter is bound again, i.e. on every
    // call: each read of a consumer's poll parsed and planned this query anew (~15 µs a call,
    // 2% of the send bench's pipeline thread). An expression is evaluated at run time instead.
    readFrom: db.prepare<[string, number, number, number], RecordRow>(
      `SELECT topic, partition, offset, key, value, headers, timestamp FROM records
       WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT (? + 0)`,
    ),
    firstTimestamp: db
      .prepare<[string, number, number, number], number>(
        `SELECT timestamp FROM records WHERE topic = ? AND partition = ? AND offset >= ? AND offset < ?
         ORDER BY offset LIMIT 1`,
      )
      .pluck(),
    committed: db.prepare<[string, string], { partition: number; next_offset: number }>(
      'SELECT partition, next_offset FROM offsets WHERE group_id = ? AND topic = ?',
    ),
    // Committed offsets only move forward.
    commitOffset: db.prepare<[string, string, number, number]>(
      `INSERT INTO offsets (group_id, topic, partition, next_offset) VALUES (?, ?, ?, ?)
       ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = max(next_offset, excluded.next_offset)`,
    ),
    deleteOlder: db.prepare<[string, number]>('DELETE FROM records WHERE topic = ? AND timestamp < ?'),
  };
}
