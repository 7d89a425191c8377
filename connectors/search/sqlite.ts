/**
 * The embedded search index on SQLite FTS5: `docs` holds each message's key and place
 * (user, mailbox, UID), and a contentless FTS5 table (the text itself stays in the blob
 * store) indexes from, to, cc, subject, body and attachment names with the `unicode61`
 * tokenizer, diacritics folded ("cafe" finds "café").
 *
 * Per-user isolation is in the index itself: each document carries its owner as a token in
 * the `owner` column, and every query ANDs it, so FTS5 intersects with that user's posting
 * list instead of matching everyone's mail and filtering (the `user_id` check stays as well).
 *
 * IMAP SEARCH (`matchUids`, RFC 9051 §6.4.4 substrings) has its own FTS5 table, `substr`
 * (migration 2), with the `trigram` tokenizer over text folded by `foldCase` (substring.ts):
 * the header block, the Subject/From/To/Cc values, the body text and the attachment names. A
 * needle of three or more characters is an FTS5 phrase of its trigrams — consecutive, so an
 * exact substring match — and a shorter one is an `instr()` scan of the mailbox's documents
 * (see sqlite-substring.ts). The tokenizer is `case_sensitive 1` because both sides are
 * folded in JavaScript first: SQLite's own folding would differ from the reference semantics
 * in `substring.ts`, which the IMAP evaluator applies to messages not indexed yet.
 *
 * Durability: WAL; every write is fsynced before its promise settles. The index could be rebuilt
 * from the mail store, but the `index` stage commits its log offsets after `index()` returns, so
 * a write lost to a power cut would otherwise never be redone; one fsync per batch, made off the
 * event loop (`WalCommitter`: the stages' thread runs other stages during it).
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { applyMigrations, openDurableDatabase } from '../sqlite-file.ts';
import { buildMatch, FTS_COLUMNS } from './fts-query.ts';
import type { DocumentCopy, Relocation, SearchDocument, SearchHit, SearchIndex, SearchQuery } from './search.ts';
import { SUBSTRING_MIGRATION, SubstringTable } from './sqlite-substring.ts';
import { NoReaderError, SubstringReaders } from './substring-readers.ts';
import { NoWriterError, SearchWriterThread, type WriterCall } from './index-writer.ts';
import type { SubstringMatch } from './substring.ts';
import { sqliteHealth, type EngineHealth } from '../health.ts';
import { WalCommitter, type FileSync } from '../wal-commit.ts';

export interface SqliteSearchIndexOptions {
  /** The SQLite file; created if missing. */
  readonly path: string;
  /** How writes fsync the WAL (tests); default fdatasync on libuv's thread pool. */
  readonly syncFile?: FileSync;
  /**
   * Threads answering IMAP substring matches (`matchUids`) with their own read-only connections
   * (substring-readers.ts); default 0: on the calling thread.
   */
  readonly readers?: number;
  /**
   * Writes (`index`, `remove`, `relocate`, `copy`) made by a thread of their own with its own
   * connection (index-writer.ts), not on the calling thread: the pipeline thread's; default false.
   */
  readonly writerThread?: boolean;
}

/** Numbered migrations of the index file (append only; exported for the upgrade test). */
export const SEARCH_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE docs (
    id INTEGER PRIMARY KEY,
    message_key TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    mailbox_id INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    received_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX docs_by_place ON docs (user_id, mailbox_id, uid);
  CREATE VIRTUAL TABLE fts USING fts5(${FTS_COLUMNS.join(', ')},
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
  `,
  SUBSTRING_MIGRATION,
];

interface HitRow {
  message_key: string;
  mailbox_id: number;
  uid: number;
}

/** ownerToken's answers, by user id as given (a few users write most; cleared when full). */
const ownerTokens = new Map<string, string>();
const OWNER_TOKENS_MAX = 10_000;

/** The token standing for a user in the `owner` column: one unicode61 token, no user text. */
export function ownerToken(userId: string): string {
  let token = ownerTokens.get(userId);
  if (token === undefined) {
    // One SHA-256 per document indexed was ~0.1 ms of the send bench's pipeline thread.
    token = `u${createHash('sha256').update(userId.toLowerCase()).digest('hex').slice(0, 24)}`;
    if (ownerTokens.size >= OWNER_TOKENS_MAX) ownerTokens.clear();
    ownerTokens.set(userId, token);
  }
  return token;
}

export class SqliteSearchIndex implements SearchIndex {
  private readonly db: Database.Database;
  private readonly upsertDoc;
  private readonly putText;
  private readonly findDoc;
  private readonly deleteDoc;
  private readonly deleteText;
  private readonly searchUser;
  private readonly searchMailbox;
  private readonly findSource;
  private readonly relocateDoc;
  private readonly copyWords;
  private readonly substr: SubstringTable;
  private readonly commits: WalCommitter;
  /** Started at the first substring match (`readers` of the options): a server that is never searched has none. */
  private readers: SubstringReaders | null = null;
  private readonly readerCount: number;
  /** The writer thread (`writerThread` of the options), until it is gone. */
  private writer: SearchWriterThread | null;
  private readonly path: string;
  private closed = false;

  constructor(options: SqliteSearchIndexOptions) {
    const db = openDurableDatabase(options.path, (d) => applyMigrations(d, SEARCH_MIGRATIONS, 'search index'));
    this.db = db;
    this.commits = new WalCommitter(db, { syncFile: options.syncFile });
    this.upsertDoc = db
      .prepare<[string, string, number, number, number, number], number>(
        `INSERT INTO docs (message_key, user_id, mailbox_id, uid, received_at, imap) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (message_key) DO UPDATE SET user_id = excluded.user_id, mailbox_id = excluded.mailbox_id,
           uid = excluded.uid, received_at = excluded.received_at, imap = excluded.imap
         RETURNING id`,
      )
      .pluck();
    this.putText = db.prepare(
      `INSERT OR REPLACE INTO fts (rowid, ${FTS_COLUMNS.join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.findDoc = db.prepare<[string], number>('SELECT id FROM docs WHERE message_key = ?').pluck();
    this.deleteDoc = db.prepare<[number]>('DELETE FROM docs WHERE id = ?');
    this.deleteText = db.prepare<[number]>('DELETE FROM fts WHERE rowid = ?');
    const hits = 'SELECT d.message_key, d.mailbox_id, d.uid FROM fts JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ? AND d.user_id = ?';
    this.searchUser = db.prepare<[string, string, number], HitRow>(`${hits} ORDER BY d.mailbox_id, d.uid LIMIT (? + 0)`);
    this.searchMailbox = db.prepare<[string, string, number, number], HitRow>(
      `${hits} AND d.mailbox_id = ? ORDER BY d.mailbox_id, d.uid LIMIT (? + 0)`,
    );
    this.findSource = db.prepare<[string], { id: number; user_id: string; received_at: number; imap: number }>(
      'SELECT id, user_id, received_at, imap FROM docs WHERE message_key = ?',
    );
    this.relocateDoc = db.prepare<[number, number, string]>('UPDATE docs SET mailbox_id = ?, uid = ? WHERE message_key = ?');
    this.copyWords = db.prepare<[number, string, number]>(
      `INSERT OR REPLACE INTO fts (rowid, ${FTS_COLUMNS.join(', ')})
       SELECT ?, from_h, to_h, cc_h, subject, body, attachments, ? FROM substr WHERE rowid = ?`,
    );
    this.substr = new SubstringTable(db);
    this.readerCount = options.readers ?? 0;
    this.path = options.path;
    this.writer = options.writerThread ? new SearchWriterThread(options.path) : null;
  }

  /** Starts the reader threads (if any) and resolves once they are ready: tests. */
  async startReaders(): Promise<void> {
    if (this.readerCount > 0) this.readers ??= new SubstringReaders(this.path, this.readerCount);
    await this.readers?.whenStarted();
  }

  async index(docs: readonly SearchDocument[]): Promise<void> {
    this.assertOpen();
    if (docs.length === 0) return;
    if (await this.onWriter({ op: 'index', docs })) return;
    await this.commits.write(() => {
      for (const doc of docs) {
        const headers = doc.headers ?? '';
        const imap = headers === '' ? 0 : 1;
        const id = this.upsertDoc.get(doc.messageKey, doc.userId.toLowerCase(), doc.mailboxId, doc.uid, doc.receivedAt, imap)!;
        this.putText.run(id, doc.from, doc.to, doc.cc, doc.subject, doc.body, doc.attachments, ownerToken(doc.userId));
        this.substr.put(id, headers, doc.body, doc.attachments);
      }
    });
  }

  async remove(messageKeys: readonly string[]): Promise<void> {
    this.assertOpen();
    if (messageKeys.length === 0) return;
    if (await this.onWriter({ op: 'remove', messageKeys })) return;
    await this.commits.write(() => {
      for (const key of messageKeys) {
        const id = this.findDoc.get(key);
        if (id === undefined) continue;
        this.deleteText.run(id);
        this.substr.delete(id);
        this.deleteDoc.run(id);
      }
    });
  }

  async search(query: SearchQuery): Promise<SearchHit[]> {
    this.assertOpen();
    const userId = query.userId.toLowerCase();
    const match = buildMatch(ownerToken(userId), query.terms);
    const limit = query.limit ?? -1;
    const rows =
      query.mailboxId === undefined
        ? this.searchUser.all(match, userId, limit)
        : this.searchMailbox.all(match, userId, query.mailboxId, limit);
    return rows.map((r) => ({ messageKey: r.message_key, mailboxId: r.mailbox_id, uid: r.uid }));
  }

  async matchUids(userId: string, mailboxId: number, match: SubstringMatch): Promise<Set<number>> {
    this.assertOpen();
    if (this.readerCount > 0) {
      this.readers ??= new SubstringReaders(this.path, this.readerCount);
      const answer = this.readers.match(userId.toLowerCase(), mailboxId, match);
      try {
        if (answer) return await answer;
      } catch (err) {
        if (!(err instanceof NoReaderError)) throw err;
      }
      // No reader thread is ready yet (or left): answered here, as without them.
    }
    return this.substr.match(userId.toLowerCase(), mailboxId, match);
  }

  async indexedUids(userId: string, mailboxId: number): Promise<Set<number>> {
    this.assertOpen();
    return this.substr.indexed(userId.toLowerCase(), mailboxId);
  }

  async fieldValues(userId: string, mailboxId: number, field: string): Promise<Map<number, string[]>> {
    this.assertOpen();
    return this.substr.fieldValues(userId.toLowerCase(), mailboxId, field);
  }

  async relocate(moves: readonly Relocation[]): Promise<void> {
    this.assertOpen();
    if (moves.length === 0) return;
    if (await this.onWriter({ op: 'relocate', moves })) return;
    await this.commits.write(() => {
      for (const m of moves) this.relocateDoc.run(m.mailboxId, m.uid, m.messageKey);
    });
  }

  async copy(copies: readonly DocumentCopy[]): Promise<void> {
    this.assertOpen();
    if (copies.length === 0) return;
    if (await this.onWriter({ op: 'copy', copies })) return;
    await this.commits.write(() => {
      for (const c of copies) {
        if (c.fromKey === c.toKey) {
          this.relocateDoc.run(c.mailboxId, c.uid, c.fromKey);
          continue;
        }
        const source = this.findSource.get(c.fromKey);
        if (!source) continue;
        const id = this.upsertDoc.get(c.toKey, source.user_id, c.mailboxId, c.uid, source.received_at, source.imap)!;
        this.substr.copy(source.id, id);
        this.copyWords.run(id, ownerToken(source.user_id), id);
      }
    });
  }

  health(): Promise<EngineHealth> {
    return sqliteHealth('sqlite', this.db);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer?.close();
    await this.readers?.close();
    await this.commits.close();
    this.db.close();
  }

  /**
   * Makes `call` on the writer thread: true once it is durable there, false when there is no
   * thread (any more), for the caller to write here.
   */
  private async onWriter(call: WriterCall): Promise<boolean> {
    if (!this.writer) return false;
    try {
      await this.writer.run(call);
      return true;
    } catch (err) {
      if (!(err instanceof NoWriterError)) throw err;
      this.writer = null;
      return false;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('search index is closed');
  }
}
