/** The quarantine of the embedded default: one table in `quarantine.db` (WAL, fsynced). */
import type Database from 'better-sqlite3';
import { applyMigrations, openDurableDatabase } from '../sqlite-file.ts';
import type { Quarantine, QuarantineEntry } from './quarantine.ts';
import type { ParsedMail } from '../../schemas/types.ts';

const MIGRATIONS = [
  `CREATE TABLE quarantine (
     message_key TEXT PRIMARY KEY,
     user_id TEXT NOT NULL,
     quarantined_at INTEGER NOT NULL,
     viruses TEXT NOT NULL,
     record TEXT NOT NULL,
     release_topic TEXT NOT NULL,
     released_at INTEGER
   );
   CREATE INDEX quarantine_user ON quarantine (user_id, quarantined_at);`,
];

interface Row {
  message_key: string;
  user_id: string;
  quarantined_at: number;
  viruses: string;
  record: string;
  release_topic: string;
  released_at: number | null;
}

function toEntry(row: Row): QuarantineEntry {
  return {
    messageKey: row.message_key,
    userId: row.user_id,
    quarantinedAt: row.quarantined_at,
    viruses: JSON.parse(row.viruses) as string[],
    record: JSON.parse(row.record) as ParsedMail,
    releaseTopic: row.release_topic,
    releasedAt: row.released_at,
  };
}

export class SqliteQuarantine implements Quarantine {
  private readonly db: Database.Database;

  constructor(options: { path: string }) {
    this.db = openDurableDatabase(options.path, (db) => applyMigrations(db, MIGRATIONS, 'quarantine'));
  }

  async put(entry: Omit<QuarantineEntry, 'releasedAt'>): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO quarantine (message_key, user_id, quarantined_at, viruses, record, release_topic)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_key) DO NOTHING`,
      )
      .run(entry.messageKey, entry.userId, entry.quarantinedAt, JSON.stringify(entry.viruses), JSON.stringify(entry.record), entry.releaseTopic);
  }

  async list(userId?: string): Promise<QuarantineEntry[]> {
    const rows = userId
      ? this.db.prepare('SELECT * FROM quarantine WHERE user_id = ? ORDER BY quarantined_at, message_key').all(userId.toLowerCase())
      : this.db.prepare('SELECT * FROM quarantine ORDER BY quarantined_at, message_key').all();
    return (rows as Row[]).map(toEntry);
  }

  async get(messageKey: string): Promise<QuarantineEntry | null> {
    const row = this.db.prepare('SELECT * FROM quarantine WHERE message_key = ?').get(messageKey) as Row | undefined;
    return row ? toEntry(row) : null;
  }

  async markReleased(messageKey: string, at: number): Promise<void> {
    this.db.prepare('UPDATE quarantine SET released_at = ? WHERE message_key = ? AND released_at IS NULL').run(at, messageKey);
  }

  async delete(messageKey: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM quarantine WHERE message_key = ?').run(messageKey).changes > 0;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
