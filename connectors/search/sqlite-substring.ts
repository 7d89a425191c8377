/**
 * The IMAP SEARCH side of the SQLite search index: the `substr` FTS5 table (trigram tokenizer,
 * text folded by `foldCase`) and the queries that answer `matchUids` with the semantics of
 * substring.ts (RFC 9051 §6.4.4):
 *
 * - a needle of 3+ characters: `substr MATCH '{columns} : "needle"'` (TEXT: `'"needle"'`) — an
 *   FTS5 string (quotes doubled), so the needle is never query syntax; its trigrams must be
 *   consecutive, which makes it an exact substring test;
 * - a shorter non-empty needle: `instr()` over the mailbox's documents (no trigram to use);
 * - an empty needle: every document (TEXT/BODY), or every document with the field (HEADER);
 * - HEADER with a field that has no column: the documents whose header block has the field
 *   (`"\nname: "`, a phrase too) and the needle, checked line by line in JavaScript.
 *
 * Rows of `substr` share their rowid with `docs.id`.
 */
import type Database from 'better-sqlite3';
import {
  fitsHeaders,
  foldCase,
  headerFieldName,
  headerLinesMatch,
  headerLineValues,
  isFieldColumn,
  searchFields,
  type FieldColumn,
  type SubstringMatch,
} from './substring.ts';
import { ftsString } from './fts-query.ts';

/** Migration 2 of the search index file (append-only: never edit once shipped). */
export const SUBSTRING_MIGRATION = `
  ALTER TABLE docs ADD COLUMN imap INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX docs_imap ON docs (user_id, mailbox_id, imap, uid);
  CREATE VIRTUAL TABLE substr USING fts5(headers, subject, from_h, to_h, cc_h, body, attachments,
    tokenize = 'trigram case_sensitive 1');
`;

const COLUMN_OF: Record<FieldColumn, string> = { subject: 'subject', from: 'from_h', to: 'to_h', cc: 'cc_h' };
/**
 * TEXT's columns. The subject/from/to/cc columns hold values of header lines, so a needle without
 * a line break found in one of them is in `headers` too: TEXT's MATCH needs no column filter, which
 * FTS5 answers ~20% faster.
 */
const TEXT_COLUMNS: readonly string[] = ['headers', 'body', 'attachments'];

type Stmt<P extends unknown[], R> = Database.Statement<P, R>;
interface ScanParams {
  user: string;
  mailbox: number;
  needle: string;
}

export class SubstringTable {
  private readonly insert: Stmt<[number, string, string, string, string, string, string, string], void>;
  private readonly remove: Stmt<[number], void>;
  private readonly copyRow: Stmt<[number, number], void>;
  private readonly indexedStmt: Stmt<[string, number], number>;
  private readonly matched: Stmt<[string, string, number], number>;
  private readonly matchedHeaders: Stmt<[string, string, number], { uid: number; headers: string }>;
  private readonly scans = new Map<string, Stmt<[ScanParams], number>>();

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      'INSERT INTO substr (rowid, headers, subject, from_h, to_h, cc_h, body, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.remove = db.prepare('DELETE FROM substr WHERE rowid = ?');
    this.copyRow = db.prepare(
      `INSERT INTO substr (rowid, headers, subject, from_h, to_h, cc_h, body, attachments)
       SELECT ?, headers, subject, from_h, to_h, cc_h, body, attachments FROM substr WHERE rowid = ?`,
    );
    this.indexedStmt = db.prepare<[string, number], number>('SELECT uid FROM docs WHERE user_id = ? AND mailbox_id = ? AND imap = 1').pluck();
    const mailboxDocs = 'd.user_id = ? AND d.mailbox_id = ? AND d.imap = 1';
    const viaMatch = `FROM substr s JOIN docs d ON d.id = s.rowid WHERE substr MATCH ? AND ${mailboxDocs}`;
    this.matched = db.prepare<[string, string, number], number>(`SELECT d.uid ${viaMatch}`).pluck();
    this.matchedHeaders = db.prepare(`SELECT d.uid, s.headers ${viaMatch}`);
  }

  /** Writes (replaces) the row of document `id`. */
  put(id: number, headers: string, body: string, attachments: string): void {
    const f = searchFields(headers, body, attachments);
    this.remove.run(id);
    this.insert.run(id, f.headers, f.subject, f.from, f.to, f.cc, f.body, f.attachments);
  }

  delete(id: number): void {
    this.remove.run(id);
  }

  /** Copies the row of document `from` to document `to` (replacing it). */
  copy(from: number, to: number): void {
    this.remove.run(to);
    this.copyRow.run(to, from);
  }

  indexed(userId: string, mailboxId: number): Set<number> {
    return new Set(this.indexedStmt.all(userId, mailboxId));
  }

  fieldValues(userId: string, mailboxId: number, field: string): Map<number, string[]> {
    const out = new Map<number, string[]>();
    const name = headerFieldName(field);
    if (name === null) return out;
    const rows = this.matchedHeaders.all(`headers : ${ftsString(`\n${name}: `)}`, userId, mailboxId);
    for (const row of rows) {
      const values = headerLineValues(row.headers, name);
      if (values.length > 0) out.set(row.uid, values);
    }
    return out;
  }

  match(userId: string, mailboxId: number, match: SubstringMatch): Set<number> {
    const needle = foldCase(match.needle);
    if (match.in !== 'header') {
      if (match.in === 'body' || !fitsHeaders(needle)) return this.inColumns(userId, mailboxId, ['body', 'attachments'], needle);
      return this.inColumns(userId, mailboxId, TEXT_COLUMNS, needle);
    }
    const name = headerFieldName(match.field);
    if (name === null || !fitsHeaders(needle)) return new Set();
    if (needle !== '' && isFieldColumn(name)) return this.inColumns(userId, mailboxId, [COLUMN_OF[name]], needle);
    // Any other field, or "has the field": candidates by phrase, then the lines themselves.
    const has = `headers : ${ftsString(`\n${name}: `)}`;
    const query = [...needle].length >= 3 ? `${has} AND headers : ${ftsString(needle)}` : has;
    const out = new Set<number>();
    for (const row of this.matchedHeaders.iterate(query, userId, mailboxId)) {
      if (headerLinesMatch(row.headers, name, needle)) out.add(row.uid);
    }
    return out;
  }

  private inColumns(userId: string, mailboxId: number, columns: readonly string[], needle: string): Set<number> {
    if (needle === '') return this.indexed(userId, mailboxId);
    if ([...needle].length >= 3) {
      const query = columns === TEXT_COLUMNS ? ftsString(needle) : `{${columns.join(' ')}} : ${ftsString(needle)}`;
      return new Set(this.matched.all(query, userId, mailboxId));
    }
    return new Set(this.scan(columns).all({ user: userId, mailbox: mailboxId, needle }));
  }

  private scan(columns: readonly string[]): Stmt<[ScanParams], number> {
    const key = columns.join(',');
    let stmt = this.scans.get(key);
    if (!stmt) {
      const test = columns.map((c) => `instr(s.${c}, @needle) > 0`).join(' OR ');
      stmt = this.db
        .prepare<[ScanParams], number>(
          `SELECT d.uid FROM docs d JOIN substr s ON s.rowid = d.id
           WHERE d.user_id = @user AND d.mailbox_id = @mailbox AND d.imap = 1 AND (${test})`,
        )
        .pluck();
      this.scans.set(key, stmt);
    }
    return stmt;
  }
}
