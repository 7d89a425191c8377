/**
 * The folders of a user on Cassandra (`mailboxes`, partitioned by user), their numeric ids
 * (`mailbox_ids`) and subscriptions. The store stage is the only writer of a user's folders, so
 * a write path loads the user's folders once (`UserBoxes`), changes them in memory and writes
 * each changed row in the same logged batch as the message rows it counts.
 *
 * Mailbox ids: 52 bits of SHA-256(user id, name, UIDVALIDITY[, attempt]) — derived, not taken
 * from a global counter, so that no cross-user counter becomes a hot row every store process
 * contends for, and a replay of the log gives the same id for the same folder. Uniqueness across
 * all users is made sure by the one lightweight transaction here: `INSERT … IF NOT EXISTS` on
 * `mailbox_ids`; on a collision (about one in 10^15 per pair) the next attempt is hashed. The id
 * row of a deleted folder stays, so an id is never given twice.
 */
import { createHash } from 'node:crypto';
import type { types } from 'cassandra-driver';
import type { Mailbox, SpecialUse } from '../store.ts';
import { parentNames } from '../sqlite/names.ts';
import type { Cql, Statement } from './cql.ts';
import { num } from './cql.ts';

/** A folder's row, mutable by the writer that loaded it. */
export interface BoxState {
  id: number;
  userId: string;
  name: string;
  specialUse: SpecialUse | null;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  messages: number;
  unseen: number;
  size: number;
}

const BOX_COLUMNS = 'user_id, name, id, special_use, uidvalidity, uidnext, highestmodseq, messages, unseen, size, last_uidvalidity';

function toBox(row: types.Row): BoxState {
  return {
    id: num(row.get('id')),
    userId: String(row.get('user_id')),
    name: String(row.get('name')),
    specialUse: (row.get('special_use') as SpecialUse | null) ?? null,
    uidValidity: num(row.get('uidvalidity')),
    uidNext: num(row.get('uidnext')),
    highestModseq: num(row.get('highestmodseq')),
    messages: num(row.get('messages')),
    unseen: num(row.get('unseen')),
    size: num(row.get('size')),
  };
}

export function toMailbox(box: BoxState, subscribed: boolean): Mailbox {
  return { ...box, subscribed };
}

/** Creation order: UIDVALIDITY grows with every folder a user gets (see `UserBoxes.create`). */
export const byCreation = (a: BoxState, b: BoxState): number => a.uidValidity - b.uidValidity || a.id - b.id;

export function mailboxId(userId: string, name: string, uidValidity: number, attempt: number): number {
  const digest = createHash('sha256').update(`${userId}\n${name}\n${uidValidity}\n${attempt}`).digest();
  // 52 bits: a safe integer, never 0.
  return (digest.readUIntBE(0, 6) * 16 + (digest[6] >> 4)) || 1;
}

export class MailboxTable {
  /** id → owner: never changes and ids are never reused (a deleted folder's id row stays), so it is cached. */
  private readonly owners = new Map<number, string>();

  constructor(private readonly cql: Cql) {}

  /** A user's folders (rows with no id are the static column's placeholder row: skipped). */
  async load(userId: string): Promise<{ boxes: BoxState[]; lastUidValidity: number }> {
    const rows = await this.cql.rows(`SELECT ${BOX_COLUMNS} FROM mailboxes WHERE user_id = ?`, [userId]);
    const lastUidValidity = rows.length > 0 ? num(rows[0].get('last_uidvalidity')) : 0;
    return { boxes: rows.filter((r) => r.get('id') !== null).map(toBox), lastUidValidity };
  }

  async ownerOf(id: number): Promise<string | null> {
    const cached = this.owners.get(id);
    if (cached !== undefined) return cached;
    const row = await this.cql.row('SELECT user_id FROM mailbox_ids WHERE id = ?', [id]);
    if (!row) return null;
    if (this.owners.size > 100_000) this.owners.clear();
    this.owners.set(id, String(row.get('user_id')));
    return String(row.get('user_id'));
  }

  async subscriptions(userId: string): Promise<string[]> {
    const rows = await this.cql.rows('SELECT name FROM subscriptions WHERE user_id = ?', [userId]);
    return rows.map((r) => String(r.get('name')));
  }

  /** Claims a unique id for a new folder (the one LWT of the store). */
  async claimId(userId: string, name: string, uidValidity: number, taken: ReadonlySet<number>): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const id = mailboxId(userId, name, uidValidity, attempt);
      const { applied, row } = await this.cql.lwt('INSERT INTO mailbox_ids (id, user_id) VALUES (?, ?) IF NOT EXISTS', [id, userId]);
      // Ours already (a replay of a creation that did not finish): take it again.
      if (applied || (String(row.get('user_id')) === userId && !taken.has(id))) return id;
      if (attempt > 16) throw new Error('could not find a free mailbox id');
    }
  }

  save(box: BoxState): Statement {
    return {
      query: `INSERT INTO mailboxes (user_id, name, id, special_use, uidvalidity, uidnext, highestmodseq, messages, unseen, size)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      params: [box.userId, box.name, box.id, box.specialUse, box.uidValidity, box.uidNext, box.highestModseq, box.messages, box.unseen, box.size],
    };
  }

  removeRow(userId: string, name: string): Statement {
    return { query: 'DELETE FROM mailboxes WHERE user_id = ? AND name = ?', params: [userId, name] };
  }

  setLastUidValidity(userId: string, value: number): Statement {
    return { query: 'UPDATE mailboxes SET last_uidvalidity = ? WHERE user_id = ?', params: [value, userId] };
  }

  subscribe(userId: string, name: string, subscribed: boolean): Statement {
    return subscribed
      ? { query: 'INSERT INTO subscriptions (user_id, name) VALUES (?, ?)', params: [userId, name] }
      : { query: 'DELETE FROM subscriptions WHERE user_id = ? AND name = ?', params: [userId, name] };
  }
}

/**
 * One user's folders, loaded once by a write path and changed in memory; `statements` collects
 * the writes of the change under way (the caller puts them in its batch and then `flush`es).
 */
export class UserBoxes {
  /** Folders changed since the last `drain`: each row is written once per batch, with its final state. */
  private readonly dirty = new Set<BoxState>();

  private constructor(
    private readonly table: MailboxTable,
    readonly userId: string,
    private readonly byName: Map<string, BoxState>,
    private lastUidValidity: number,
  ) {}

  static async load(table: MailboxTable, userId: string): Promise<UserBoxes> {
    const { boxes, lastUidValidity } = await table.load(userId);
    return new UserBoxes(table, userId, new Map(boxes.map((b) => [b.name, b])), lastUidValidity);
  }

  get(name: string): BoxState | undefined {
    return this.byName.get(name);
  }

  byId(id: number): BoxState | undefined {
    for (const box of this.byName.values()) if (box.id === id) return box;
    return undefined;
  }

  all(): BoxState[] {
    return [...this.byName.values()].sort(byCreation);
  }

  /**
   * A new, empty folder with a UIDVALIDITY no earlier folder of this user had: the clock in
   * seconds, or one more than the last one given (RFC 9051 §2.3.1.1). Its rows go to `out`.
   */
  async create(name: string, specialUse: SpecialUse | null, out: Statement[], init: { uidNext?: number; highestModseq?: number } = {}): Promise<BoxState> {
    const uidValidity = Math.max(Math.floor(Date.now() / 1000), this.lastUidValidity + 1);
    this.lastUidValidity = uidValidity;
    const taken = new Set([...this.byName.values()].map((b) => b.id));
    const id = await this.table.claimId(this.userId, name, uidValidity, taken);
    const box: BoxState = {
      id, userId: this.userId, name, specialUse, uidValidity,
      uidNext: init.uidNext ?? 1, highestModseq: init.highestModseq ?? 0, messages: 0, unseen: 0, size: 0,
    };
    this.byName.set(name, box);
    this.dirty.add(box);
    out.push(this.table.setLastUidValidity(this.userId, uidValidity));
    return box;
  }

  /** Creates the missing superiors of `name` (RFC 9051 §6.3.4), outermost first. */
  async createParents(name: string, subscribe: boolean, out: Statement[]): Promise<void> {
    for (const parent of parentNames(name)) {
      if (this.byName.has(parent)) continue;
      await this.create(parent, null, out);
      if (subscribe) out.push(this.table.subscribe(this.userId, parent, true));
    }
  }

  rename(box: BoxState, to: string, out: Statement[]): void {
    out.push(this.table.removeRow(this.userId, box.name));
    this.byName.delete(box.name);
    box.name = to;
    this.byName.set(to, box);
    this.dirty.add(box);
  }

  remove(box: BoxState, out: Statement[]): void {
    this.byName.delete(box.name);
    this.dirty.delete(box);
    out.push(this.table.removeRow(this.userId, box.name));
  }

  /** Marks a folder's row for writing at the next `drain`. */
  touch(box: BoxState): void {
    this.dirty.add(box);
  }

  /** The writes of the folder rows changed since the last call (a batch holds each row once). */
  drain(): Statement[] {
    const out = [...this.dirty].map((box) => this.table.save(box));
    this.dirty.clear();
    return out;
  }
}
