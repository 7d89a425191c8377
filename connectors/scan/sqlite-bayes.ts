/** The Bayes token model of the embedded default: `bayes.db` (WAL, fsynced), per user. */
import type Database from 'better-sqlite3';
import { applyMigrations, openDurableDatabase } from '../sqlite-file.ts';
import type { BayesCounts, BayesStore, TokenCounts } from './bayes.ts';

const MIGRATIONS = [
  `CREATE TABLE bayes_docs (user_id TEXT NOT NULL, doc_key TEXT NOT NULL, spam INTEGER NOT NULL, PRIMARY KEY (user_id, doc_key));
   CREATE TABLE bayes_tokens (user_id TEXT NOT NULL, token TEXT NOT NULL, spam INTEGER NOT NULL DEFAULT 0, ham INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (user_id, token)) WITHOUT ROWID;`,
];

export class SqliteBayesStore implements BayesStore {
  private readonly db: Database.Database;
  private readonly learnTx: (userId: string, docKey: string, tokens: readonly string[], spam: boolean) => boolean;

  constructor(options: { path: string }) {
    this.db = openDurableDatabase(options.path, (db) => applyMigrations(db, MIGRATIONS, 'bayes'));
    const doc = this.db.prepare('SELECT spam FROM bayes_docs WHERE user_id = ? AND doc_key = ?');
    const upsertDoc = this.db.prepare('INSERT INTO bayes_docs (user_id, doc_key, spam) VALUES (?, ?, ?) ON CONFLICT (user_id, doc_key) DO UPDATE SET spam = excluded.spam');
    const add = this.db.prepare(
      `INSERT INTO bayes_tokens (user_id, token, spam, ham) VALUES (@user, @token, @s, @h)
       ON CONFLICT (user_id, token) DO UPDATE SET spam = max(0, spam + @s), ham = max(0, ham + @h)`,
    );
    this.learnTx = this.db.transaction((userId: string, docKey: string, tokens: readonly string[], spam: boolean) => {
      const before = doc.get(userId, docKey) as { spam: number } | undefined;
      if (before && before.spam === (spam ? 1 : 0)) return false;
      for (const token of tokens) {
        // A message learnt as the other class before moves over: minus there, plus here.
        const undo = before ? -1 : 0;
        add.run({ user: userId, token, s: spam ? 1 : undo, h: spam ? undo : 1 });
      }
      upsertDoc.run(userId, docKey, spam ? 1 : 0);
      return true;
    });
  }

  async learn(userId: string, docKey: string, tokens: readonly string[], spam: boolean): Promise<boolean> {
    return this.learnTx(userId, docKey, tokens, spam);
  }

  async counts(userId: string, tokens: readonly string[]): Promise<BayesCounts> {
    const docs = this.db.prepare('SELECT sum(spam) AS s, count(*) - sum(spam) AS h FROM bayes_docs WHERE user_id = ?').get(userId) as { s: number | null; h: number | null };
    const found = new Map<string, TokenCounts>();
    const get = this.db.prepare('SELECT spam, ham FROM bayes_tokens WHERE user_id = ? AND token = ?');
    for (const t of tokens) {
      const row = get.get(userId, t) as TokenCounts | undefined;
      if (row && row.spam + row.ham > 0) found.set(t, row);
    }
    return { spamDocs: docs.s ?? 0, hamDocs: docs.h ?? 0, tokens: found };
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
