/**
 * The embedded mail store on one SQLite file (better-sqlite3; WAL; every commit fsynced — see
 * `sqlite/schema.ts`). `deliver()` applies a whole batch in one write transaction: one fsync
 * for the batch. Idempotent by message key, so replaying the log changes nothing.
 *
 * UIDs and MODSEQs are per mailbox (RFC 9051 §2.3.1.1, RFC 7162 §3.1): a delivery takes the
 * mailbox's UIDNEXT and HIGHESTMODSEQ + 1 and advances both, so they follow the log order.
 */
import type {
  DeliverRequest,
  DeliverResult,
  Mailbox,
  MailStore,
  StoredMessage,
  User,
} from './store.ts';
import { DEFAULT_MAILBOXES } from './store.ts';
import { openStoreDatabase } from './sqlite/schema.ts';
import type { Db } from './sqlite/schema.ts';
import { MESSAGE_COLUMNS, toMailbox, toMessage, toUser } from './sqlite/rows.ts';
import type { MailboxRow, MessageRow, UserRow } from './sqlite/rows.ts';
import { normalizeMessageId, ThreadTable } from './sqlite/threads.ts';

export interface SqliteMailStoreOptions {
  /** The SQLite file; created (and migrated) if needed. */
  readonly path: string;
}

const MAILBOX_WITH_COUNTS = `SELECT b.id, b.user_id, b.name, b.special_use, b.uidvalidity, b.uidnext, b.highestmodseq,
  (SELECT COUNT(*) FROM messages WHERE mailbox_id = b.id) AS messages,
  (SELECT COUNT(*) FROM messages WHERE mailbox_id = b.id AND seen = 0) AS unseen
  FROM mailboxes b`;
const MESSAGE_SELECT = `SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id`;

interface TargetMailbox {
  id: number;
  uidnext: number;
  highestmodseq: number;
}

type Statements = ReturnType<typeof prepare>;

function prepare(db: Db) {
  return {
    insertDomain: db.prepare<[string]>('INSERT OR IGNORE INTO domains (name) VALUES (?)'),
    domains: db.prepare<[], string>('SELECT name FROM domains ORDER BY name').pluck(),
    domainExists: db.prepare<[string], number>('SELECT 1 FROM domains WHERE name = ?').pluck(),
    insertUser: db.prepare<[string, string, string, number]>(
      'INSERT INTO users (id, address, password_hash, created_at) VALUES (?, ?, ?, ?)',
    ),
    user: db.prepare<[string], UserRow>('SELECT id, address, password_hash, created_at FROM users WHERE id = ?'),
    users: db.prepare<[], UserRow>('SELECT id, address, password_hash, created_at FROM users ORDER BY id'),
    insertMailbox: db.prepare<[string, string, string | null, number]>(
      'INSERT INTO mailboxes (user_id, name, special_use, uidvalidity, uidnext, highestmodseq) VALUES (?, ?, ?, ?, 1, 0)',
    ),
    mailboxes: db.prepare<[string], MailboxRow>(`${MAILBOX_WITH_COUNTS} WHERE b.user_id = ? ORDER BY b.id`),
    mailbox: db.prepare<[string, string], MailboxRow>(`${MAILBOX_WITH_COUNTS} WHERE b.user_id = ? AND b.name = ?`),
    target: db.prepare<[string, string], TargetMailbox>(
      'SELECT id, uidnext, highestmodseq FROM mailboxes WHERE user_id = ? AND name = ?',
    ),
    advance: db.prepare<[number, number, number]>('UPDATE mailboxes SET uidnext = ?, highestmodseq = ? WHERE id = ?'),
    insertMessage: db.prepare(
      `INSERT INTO messages (message_key, user_id, mailbox_id, uid, modseq, thread_id, received_at, size, flags, seen,
         message_id, in_reply_to, refs, subject, from_json, to_json, cc_json, date, skeleton_blob, parts)
       VALUES (@messageKey, @userId, @mailboxId, @uid, @modseq, @threadId, @receivedAt, @size, @flags, @seen,
         @messageId, @inReplyTo, @refs, @subject, @from, @to, @cc, @date, @skeletonBlob, @parts)`,
    ),
    byKey: db.prepare<[string], MessageRow>(`${MESSAGE_SELECT} WHERE m.message_key = ?`),
    page: db.prepare<[number, number, number], MessageRow>(
      `${MESSAGE_SELECT} WHERE m.mailbox_id = ? AND m.uid > ? ORDER BY m.uid LIMIT ?`,
    ),
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
  private readonly threads: ThreadTable;
  private closed = false;

  constructor(options: SqliteMailStoreOptions) {
    this.db = openStoreDatabase(options.path);
    this.st = prepare(this.db);
    this.threads = new ThreadTable(this.db);
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
    const uidValidity = Math.floor(now / 1000);
    this.db.transaction(() => {
      if (this.st.domainExists.get(domain) === undefined) throw new Error(`domain ${domain} is not local`);
      if (this.st.user.get(id) !== undefined) throw new Error(`user ${id} already exists`);
      this.st.insertUser.run(id, trimmed, passwordHash, now);
      for (const box of DEFAULT_MAILBOXES) this.st.insertMailbox.run(id, box.name, box.specialUse, uidValidity);
    }).immediate();
    return { id, address: trimmed, passwordHash, createdAt: now };
  }

  async user(address: string): Promise<User | null> {
    const row = this.st.user.get(address.trim().toLowerCase());
    return row ? toUser(row) : null;
  }

  async users(): Promise<User[]> {
    return this.st.users.all().map(toUser);
  }

  async mailboxes(userId: string): Promise<Mailbox[]> {
    return this.st.mailboxes.all(userId.toLowerCase()).map(toMailbox);
  }

  async mailbox(userId: string, name: string): Promise<Mailbox | null> {
    const row = this.st.mailbox.get(userId.toLowerCase(), mailboxName(name));
    return row ? toMailbox(row) : null;
  }

  async deliver(requests: readonly DeliverRequest[]): Promise<DeliverResult[]> {
    if (requests.length === 0) return [];
    return this.db.transaction(() => requests.map((r) => this.deliverOne(r))).immediate();
  }

  async messages(mailboxId: number, afterUid = 0, limit?: number): Promise<StoredMessage[]> {
    return this.st.page.all(mailboxId, afterUid, limit ?? -1).map(toMessage);
  }

  async message(messageKey: string): Promise<StoredMessage | null> {
    const row = this.st.byKey.get(messageKey);
    return row ? toMessage(row) : null;
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /**
   * The mailbox a delivery goes to; a name the user does not have yet (an imported folder) is
   * created, as IMAP APPEND's [TRYCREATE] would let a client do (RFC 9051 §6.3.12).
   */
  private targetMailbox(userId: string, name: string): TargetMailbox | undefined {
    const found = this.st.target.get(userId, name);
    if (found || this.st.user.get(userId) === undefined) return found;
    if (!name.trim() || name.length > 1000) return this.st.target.get(userId, 'INBOX');
    this.st.insertMailbox.run(userId, name, null, Math.floor(Date.now() / 1000));
    return this.st.target.get(userId, name);
  }

  /** One delivery, inside `deliver`'s transaction. */
  private deliverOne(request: DeliverRequest): DeliverResult {
    const existing = this.st.byKey.get(request.messageKey);
    if (existing) return { created: false, message: toMessage(existing) };

    const userId = request.userId.toLowerCase();
    const target = this.targetMailbox(userId, mailboxName(request.mailbox));
    if (!target) throw new Error(`cannot deliver ${request.messageKey}: unknown user ${userId}`);
    const uid = target.uidnext;
    const modseq = target.highestmodseq + 1;
    this.st.advance.run(uid + 1, modseq, target.id);

    const threadId = this.threads.assign({
      userId,
      messageKey: request.messageKey,
      messageId: request.messageId,
      inReplyTo: request.inReplyTo,
      references: request.references,
    });
    const flags = uniqueFlags(request.flags);
    this.st.insertMessage.run({
      messageKey: request.messageKey,
      userId,
      mailboxId: target.id,
      uid,
      modseq,
      threadId,
      receivedAt: request.receivedAt,
      size: request.size,
      flags: JSON.stringify(flags),
      seen: flags.some((f) => f.toLowerCase() === '\\seen') ? 1 : 0,
      messageId: request.messageId,
      inReplyTo: request.inReplyTo,
      refs: JSON.stringify(request.references),
      subject: request.subject,
      from: JSON.stringify(request.from),
      to: JSON.stringify(request.to),
      cc: JSON.stringify(request.cc),
      date: request.date,
      skeletonBlob: request.body.skeletonBlob,
      parts: JSON.stringify(request.body.parts),
    });
    return { created: true, message: toMessage(this.st.byKey.get(request.messageKey)!) };
  }
}

function normalizeDomain(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** INBOX is case-insensitive; other names are as given (RFC 9051 §5.1). */
function mailboxName(name: string): string {
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

/** Flags are case-insensitive (RFC 9051 §2.3.2): keep the first spelling of each. */
function uniqueFlags(flags: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const flag of flags) {
    const lower = flag.toLowerCase();
    if (seen.has(lower)) continue;
    seen.add(lower);
    out.push(flag);
  }
  return out;
}
