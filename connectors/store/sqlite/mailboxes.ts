/**
 * The mailboxes and subscriptions tables: reads with their counts, and the writes every path
 * shares (a new user's defaults, a delivery's unknown folder, IMAP CREATE and RENAME).
 * Writes must run inside the caller's write transaction.
 */
import type { SpecialUse } from '../store.ts';
import type { Db } from './schema.ts';
import type { MailboxRow } from './rows.ts';
import { parentNames } from './names.ts';

const MAILBOX_WITH_COUNTS = `SELECT b.id, b.user_id, b.name, b.special_use, b.uidvalidity, b.uidnext, b.highestmodseq,
  (SELECT COUNT(*) FROM messages WHERE mailbox_id = b.id) AS messages,
  (SELECT COUNT(*) FROM messages WHERE mailbox_id = b.id AND seen = 0) AS unseen,
  (SELECT COALESCE(SUM(size), 0) FROM messages WHERE mailbox_id = b.id) AS size,
  EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = b.user_id AND s.name = b.name) AS subscribed
  FROM mailboxes b`;

/** A mailbox's write state, without the counts. */
export interface MailboxState {
  id: number;
  user_id: string;
  name: string;
  uidvalidity: number;
  uidnext: number;
  highestmodseq: number;
}

const STATE_COLUMNS = 'id, user_id, name, uidvalidity, uidnext, highestmodseq';

export class MailboxTable {
  readonly all;
  readonly byName;
  readonly byId;
  readonly stateByName;
  readonly stateById;
  readonly names;
  readonly subscriptions;
  readonly advance;
  readonly setModseq;
  readonly rename;
  readonly remove;
  private readonly insert;
  private readonly lastUidValidity;
  private readonly setLastUidValidity;
  private readonly subscribeName;
  private readonly unsubscribeName;

  constructor(db: Db) {
    this.all = db.prepare<[string], MailboxRow>(`${MAILBOX_WITH_COUNTS} WHERE b.user_id = ? ORDER BY b.id`);
    this.byName = db.prepare<[string, string], MailboxRow>(`${MAILBOX_WITH_COUNTS} WHERE b.user_id = ? AND b.name = ?`);
    this.byId = db.prepare<[number], MailboxRow>(`${MAILBOX_WITH_COUNTS} WHERE b.id = ?`);
    this.stateByName = db.prepare<[string, string], MailboxState>(`SELECT ${STATE_COLUMNS} FROM mailboxes WHERE user_id = ? AND name = ?`);
    this.stateById = db.prepare<[number], MailboxState>(`SELECT ${STATE_COLUMNS} FROM mailboxes WHERE id = ?`);
    this.names = db.prepare<[string], string>('SELECT name FROM mailboxes WHERE user_id = ? ORDER BY name').pluck();
    this.subscriptions = db.prepare<[string], string>('SELECT name FROM subscriptions WHERE user_id = ? ORDER BY name').pluck();
    this.advance = db.prepare<[number, number, number]>('UPDATE mailboxes SET uidnext = ?, highestmodseq = ? WHERE id = ?');
    this.setModseq = db.prepare<[number, number]>('UPDATE mailboxes SET highestmodseq = ? WHERE id = ?');
    this.rename = db.prepare<[string, number]>('UPDATE mailboxes SET name = ? WHERE id = ?');
    this.remove = db.prepare<[number]>('DELETE FROM mailboxes WHERE id = ?');
    this.insert = db.prepare<[string, string, string | null, number, number, number]>(
      'INSERT INTO mailboxes (user_id, name, special_use, uidvalidity, uidnext, highestmodseq) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.lastUidValidity = db.prepare<[string], number>('SELECT last_uidvalidity FROM users WHERE id = ?').pluck();
    this.setLastUidValidity = db.prepare<[number, string]>('UPDATE users SET last_uidvalidity = ? WHERE id = ?');
    this.subscribeName = db.prepare<[string, string]>('INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)');
    this.unsubscribeName = db.prepare<[string, string]>('DELETE FROM subscriptions WHERE user_id = ? AND name = ?');
  }

  /**
   * Creates a mailbox with a UIDVALIDITY no earlier mailbox of this user had: the clock in
   * seconds, or one more than the last one given (RFC 9051 §2.3.1.1: a mailbox deleted and
   * created again must not reuse its old UIDVALIDITY). Returns its id.
   */
  create(userId: string, name: string, specialUse: SpecialUse | null, options: { uidNext?: number; highestModseq?: number } = {}): number {
    const uidValidity = Math.max(Math.floor(Date.now() / 1000), (this.lastUidValidity.get(userId) ?? 0) + 1);
    this.setLastUidValidity.run(uidValidity, userId);
    const info = this.insert.run(userId, name, specialUse, uidValidity, options.uidNext ?? 1, options.highestModseq ?? 0);
    return Number(info.lastInsertRowid);
  }

  /** Creates the missing superiors of `name` (RFC 9051 §6.3.4), outermost first; returns their names. */
  createParents(userId: string, name: string, subscribe: boolean): string[] {
    const created: string[] = [];
    for (const parent of parentNames(name)) {
      if (this.stateByName.get(userId, parent) !== undefined) continue;
      this.create(userId, parent, null);
      if (subscribe) this.subscribe(userId, parent, true);
      created.push(parent);
    }
    return created;
  }

  subscribe(userId: string, name: string, subscribed: boolean): void {
    if (subscribed) this.subscribeName.run(userId, name);
    else this.unsubscribeName.run(userId, name);
  }
}
