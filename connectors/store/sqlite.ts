/**
 * The embedded mail store on one SQLite file (better-sqlite3; WAL; every commit fsynced — see
 * `sqlite/schema.ts`). `deliver()` and `apply()` each run a whole batch in one write
 * transaction: one fsync for the batch, made off the event loop (`WalCommitter`: the store
 * stage's thread runs other stages meanwhile; the promise still settles only once the batch is
 * on disk, before the stage commits its offsets). Both are idempotent (by message key, by
 * command id), so replaying the log changes nothing. Mailbox state has one writer: the store stage.
 *
 * The parts live in `sqlite/`: mailboxes and subscriptions, deliveries, message changes
 * (flags, copy, expunge), mailbox changes (create, rename, delete, subscribe), name rules.
 */
import type {
  DeliverRequest,
  DeliverResult,
  Mailbox,
  MailboxChange,
  MailboxChangeResult,
  MailboxChanges,
  MailStore,
  MessageFacts,
  MessageSummary,
  StoredMessage,
  User,
  UserUpdate,
  WriteOptions,
} from './store.ts';
import { DEFAULT_MAILBOXES } from './store.ts';
import { sqliteHealth, type EngineHealth } from '../health.ts';
import { openStoreDatabase } from './sqlite/schema.ts';
import type { Db } from './sqlite/schema.ts';
import { toMailbox, toMessage, toUser, USER_COLUMNS } from './sqlite/rows.ts';
import type { MessageRow, UserRow } from './sqlite/rows.ts';
import { normalizeMessageId } from './sqlite/threads.ts';
import { WalCommitter, type FileSync } from '../wal-commit.ts';
import { MailboxTable } from './sqlite/mailboxes.ts';
import { Deliveries, MESSAGE_SELECT } from './sqlite/deliver.ts';
import { ChangeApplier } from './sqlite/apply.ts';
import { mailboxName } from './sqlite/names.ts';

export interface SqliteMailStoreOptions {
  /** The SQLite file; created (and migrated) if needed. */
  readonly path: string;
  /** How `deliver()`/`apply()` fsync the WAL (tests); default fdatasync on libuv's thread pool. */
  readonly syncFile?: FileSync;
}

type Statements = ReturnType<typeof prepare>;

/** `message_key, uid, modseq, flags, received_at, size` as an array (`raw` statements: no row objects). */
type FactsRow = [string, number, number, string, number, number];

/**
 * `[lo, hi]` when the UIDs are ascending and fill at least half of that range, so one range scan
 * of the (mailbox_id, uid) index beats a lookup per UID (FETCH 1:*, 1:100 …); else null.
 */
function denseRange(uids: readonly number[]): [number, number] | null {
  for (let i = 1; i < uids.length; i++) if (uids[i] <= uids[i - 1]) return null;
  const lo = uids[0];
  const hi = uids[uids.length - 1];
  return hi - lo + 1 <= 2 * uids.length ? [lo, hi] : null;
}

/** Rows of a range scan cut down to `uids` (when the range has holes). */
function onlyUids<T>(rows: T[], uids: readonly number[], range: [number, number], uidOf: (row: T) => number): T[] {
  if (range[1] - range[0] + 1 === uids.length) return rows;
  const wanted = new Set(uids);
  return rows.filter((r) => wanted.has(uidOf(r)));
}

function prepare(db: Db) {
  return {
    insertDomain: db.prepare<[string]>('INSERT OR IGNORE INTO domains (name) VALUES (?)'),
    domains: db.prepare<[], string>('SELECT name FROM domains ORDER BY name').pluck(),
    domainExists: db.prepare<[string], number>('SELECT 1 FROM domains WHERE name = ?').pluck(),
    insertUser: db.prepare<[string, string, string, number]>(
      'INSERT INTO users (id, address, password_hash, created_at) VALUES (?, ?, ?, ?)',
    ),
    user: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`),
    users: db.prepare<[], UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY id`),
    updateUser: db.prepare<[string | null, number | null, string]>(
      `UPDATE users SET password_hash = COALESCE(?, password_hash), pop3_keep_mail = COALESCE(?, pop3_keep_mail) WHERE id = ?`,
    ),
    usage: db.prepare<[string], { messages: number; bytes: number }>(
      'SELECT COUNT(*) AS messages, COALESCE(SUM(size), 0) AS bytes FROM messages WHERE user_id = ?',
    ),
    byKey: db.prepare<[string], MessageRow>(`${MESSAGE_SELECT} WHERE m.message_key = ?`),
    page: db.prepare<[number, number, number], MessageRow>(
      `${MESSAGE_SELECT} WHERE m.mailbox_id = ? AND m.uid > ? ORDER BY m.uid LIMIT (? + 0)`,
    ),
    byUid: db.prepare<[number, number], MessageRow>(`${MESSAGE_SELECT} WHERE m.mailbox_id = ? AND m.uid = ?`),
    byUids: db.prepare<[number, string], MessageRow>(
      `${MESSAGE_SELECT} WHERE m.mailbox_id = ? AND m.uid IN (SELECT value FROM json_each(?)) ORDER BY m.uid`,
    ),
    byUidRange: db.prepare<[number, number, number], MessageRow>(
      `${MESSAGE_SELECT} WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid`,
    ),
    factsRange: db.prepare<[number, number, number], FactsRow>(
      `SELECT message_key, uid, modseq, flags, received_at, size FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`,
    ).raw(true),
    factsIn: db.prepare<[number, string], FactsRow>(
      `SELECT message_key, uid, modseq, flags, received_at, size FROM messages
       WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
    ).raw(true),
    summaries: db.prepare<[number], { uid: number; modseq: number; flags: string }>(
      'SELECT uid, modseq, flags FROM messages WHERE mailbox_id = ? ORDER BY uid',
    ),
    changedSince: db.prepare<[number, number], MessageRow>(
      `${MESSAGE_SELECT} WHERE m.mailbox_id = ? AND m.modseq > ? ORDER BY m.uid`,
    ),
    expungedSince: db.prepare<[number, number], number>(
      'SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid',
    ).pluck(),
    highestModseq: db.prepare<[number], number>('SELECT highestmodseq FROM mailboxes WHERE id = ?').pluck(),
    hasMessageId: db.prepare<[string, string, string], number>(
      'SELECT 1 FROM messages WHERE user_id = ? AND message_id IN (?, ?) LIMIT 1',
    ).pluck(),
    thread: db.prepare<[string, string], MessageRow>(
      `${MESSAGE_SELECT} WHERE m.user_id = ? AND m.thread_id = ? ORDER BY m.received_at, m.id`,
    ),
    countAll: db.prepare<[], number>('SELECT COUNT(*) FROM messages').pluck(),
    countUser: db.prepare<[string], number>('SELECT COUNT(*) FROM messages WHERE user_id = ?').pluck(),
  };
}

export class SqliteMailStore implements MailStore {
  private readonly db: Db;
  private readonly st: Statements;
  private readonly boxes: MailboxTable;
  private readonly deliveries: Deliveries;
  private readonly changer: ChangeApplier;
  private readonly commits: WalCommitter;
  private closed = false;

  constructor(options: SqliteMailStoreOptions) {
    this.db = openStoreDatabase(options.path);
    this.commits = new WalCommitter(this.db, { syncFile: options.syncFile });
    this.st = prepare(this.db);
    this.boxes = new MailboxTable(this.db);
    this.deliveries = new Deliveries(this.db, this.boxes);
    this.changer = new ChangeApplier(this.db, this.boxes);
  }

  async addDomain(name: string): Promise<void> {
    const domain = normalizeDomain(name);
    if (!domain) throw new Error(`invalid domain name: ${JSON.stringify(name)}`);
    this.st.insertDomain.run(domain);
  }

  async domains(): Promise<string[]> {
    return this.st.domains.all();
  }

  async isLocalDomain(name: string): Promise<boolean> {
    return this.st.domainExists.get(normalizeDomain(name)) !== undefined;
  }

  async addUser(address: string, passwordHash: string): Promise<User> {
    const trimmed = address.trim();
    const at = trimmed.lastIndexOf('@');
    if (at <= 0 || at === trimmed.length - 1) throw new Error(`invalid address: ${JSON.stringify(address)}`);
    const id = trimmed.toLowerCase();
    const domain = normalizeDomain(trimmed.slice(at + 1));
    const now = Date.now();
    this.db.transaction(() => {
      if (this.st.domainExists.get(domain) === undefined) throw new Error(`domain ${domain} is not local`);
      if (this.st.user.get(id) !== undefined) throw new Error(`user ${id} already exists`);
      this.st.insertUser.run(id, trimmed, passwordHash, now);
      // Each mailbox its own UIDVALIDITY, so a later RENAME can never bring one back under an old name.
      for (const box of DEFAULT_MAILBOXES) {
        this.boxes.create(id, box.name, box.specialUse);
        this.boxes.subscribe(id, box.name, true);
      }
    }).immediate();
    return { id, address: trimmed, passwordHash, createdAt: now, pop3KeepMail: false };
  }

  async user(address: string): Promise<User | null> {
    const row = this.st.user.get(address.trim().toLowerCase());
    return row ? toUser(row) : null;
  }

  async users(): Promise<User[]> {
    return this.st.users.all().map(toUser);
  }

  async updateUser(userId: string, update: UserUpdate): Promise<User> {
    const id = userId.trim().toLowerCase();
    const keep = update.pop3KeepMail === undefined ? null : update.pop3KeepMail ? 1 : 0;
    const info = this.st.updateUser.run(update.passwordHash ?? null, keep, id);
    if (info.changes === 0) throw new Error(`user ${id} does not exist`);
    return toUser(this.st.user.get(id)!);
  }

  async mailboxes(userId: string): Promise<Mailbox[]> {
    return this.boxes.all.all(userId.toLowerCase()).map(toMailbox);
  }

  async mailbox(userId: string, name: string): Promise<Mailbox | null> {
    const row = this.boxes.byName.get(userId.toLowerCase(), mailboxName(name));
    return row ? toMailbox(row) : null;
  }

  async mailboxById(mailboxId: number): Promise<Mailbox | null> {
    const row = this.boxes.byId.get(mailboxId);
    return row ? toMailbox(row) : null;
  }

  async subscriptions(userId: string): Promise<string[]> {
    return this.boxes.subscriptions.all(userId.toLowerCase());
  }

  async usage(userId: string): Promise<{ messages: number; bytes: number }> {
    const row = this.st.usage.get(userId.toLowerCase())!;
    return { messages: row.messages, bytes: row.bytes };
  }

  async deliver(requests: readonly DeliverRequest[], options: WriteOptions<DeliverResult> = {}): Promise<DeliverResult[]> {
    if (requests.length === 0) return [];
    return this.commits.write(() => requests.map((r) => this.deliveries.deliver(r)), options.visible);
  }

  async apply(changes: readonly MailboxChange[], options: WriteOptions<MailboxChangeResult> = {}): Promise<MailboxChangeResult[]> {
    if (changes.length === 0) return [];
    return this.commits.write(() => changes.map((c) => this.changer.apply(c)), options.visible);
  }

  async messages(mailboxId: number, afterUid = 0, limit?: number): Promise<StoredMessage[]> {
    return this.st.page.all(mailboxId, afterUid, limit ?? -1).map(toMessage);
  }

  async message(messageKey: string): Promise<StoredMessage | null> {
    const row = this.st.byKey.get(messageKey);
    return row ? toMessage(row) : null;
  }

  async messagesByUid(mailboxId: number, uids: readonly number[]): Promise<StoredMessage[]> {
    if (uids.length === 0) return [];
    if (uids.length === 1) {
      // The common case (opening one message): a primary-key lookup, no json_each.
      const row = this.st.byUid.get(mailboxId, uids[0]);
      return row ? [toMessage(row)] : [];
    }
    const range = denseRange(uids);
    if (range) return onlyUids(this.st.byUidRange.all(mailboxId, range[0], range[1]), uids, range, (r) => r.uid).map(toMessage);
    return this.st.byUids.all(mailboxId, JSON.stringify(uids)).map(toMessage);
  }

  async messageFacts(mailboxId: number, uids: readonly number[]): Promise<MessageFacts[]> {
    if (uids.length === 0) return [];
    const range = denseRange(uids);
    const rows = range
      ? onlyUids(this.st.factsRange.all(mailboxId, range[0], range[1]), uids, range, (r) => r[1])
      : this.st.factsIn.all(mailboxId, JSON.stringify(uids));
    return rows.map((r) => ({ messageKey: r[0], uid: r[1], modseq: r[2], flags: JSON.parse(r[3]) as string[], receivedAt: r[4], size: r[5] }));
  }

  async summaries(mailboxId: number): Promise<MessageSummary[]> {
    return this.st.summaries.all(mailboxId).map((r) => ({
      uid: r.uid,
      modseq: r.modseq,
      flags: JSON.parse(r.flags) as string[],
    }));
  }

  async changes(mailboxId: number, sinceModseq: number): Promise<MailboxChanges> {
    // Every change raises the mailbox's HIGHESTMODSEQ, so nothing above it has a MODSEQ > since:
    // one lookup answers the common "nothing new" (asked after every IMAP command, RFC 9051 §7).
    const highest = this.st.highestModseq.get(mailboxId);
    if (highest !== undefined && highest <= sinceModseq) return { changed: [], expunged: [], highestModseq: highest };
    // One read transaction: the three reads see the same state.
    return this.db.transaction(() => ({
      changed: this.st.changedSince.all(mailboxId, sinceModseq).map(toMessage),
      expunged: this.st.expungedSince.all(mailboxId, sinceModseq),
      highestModseq: this.st.highestModseq.get(mailboxId) ?? 0,
    }))();
  }

  async hasMessageId(userId: string, messageId: string): Promise<boolean> {
    const bare = normalizeMessageId(messageId);
    if (bare === null) return false;
    return this.st.hasMessageId.get(userId.toLowerCase(), bare, `<${bare}>`) !== undefined;
  }

  async thread(userId: string, threadId: string): Promise<StoredMessage[]> {
    return this.st.thread.all(userId.toLowerCase(), threadId).map(toMessage);
  }

  async countMessages(userId?: string): Promise<number> {
    return userId === undefined ? this.st.countAll.get()! : this.st.countUser.get(userId.toLowerCase())!;
  }

  health(): Promise<EngineHealth> {
    return sqliteHealth('sqlite', this.db);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commits.close();
    this.db.close();
  }
}

function normalizeDomain(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}
