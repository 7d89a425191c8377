/**
 * The distributed mail store on Apache Cassandra (cassandra-driver), the `MailStore` of
 * `store.ts`. Data model (`cassandra/schema.ts`): the seed's — everything of a user partitioned
 * by the user's id, folders in their own table, messages clustered by received time in separate
 * read and unread tables, plus the per-UID facts IMAP needs — in a keyspace replicated with
 * NetworkTopologyStrategy; reads and writes at LOCAL_QUORUM.
 *
 * Consistency without multi-row transactions: the store stage is the only writer of a user's
 * mailbox state (DESIGN.md §1.2), so UIDNEXT, HIGHESTMODSEQ and the folder counts are read once,
 * advanced in memory and written in the same logged batch as the rows they describe (all or
 * nothing); and every write is idempotent (by message key, by command id), so a replay of the
 * log after a crash changes nothing. Lightweight transactions only where two writers can meet:
 * a new user (the CLI) and a new mailbox id (unique across users). Writes of one store object
 * are serialised; two store stages must not write the same user at once (the log's partitioning
 * by user id sees to that).
 *
 * The parts live in `cassandra/`: schema, folders, message rows, deliveries, threads, changes.
 */
import cassandra from 'cassandra-driver';
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
} from './store.ts';
import { DEFAULT_MAILBOXES } from './store.ts';
import { checkHealth, type EngineHealth } from '../health.ts';
import { mailboxName } from './sqlite/names.ts';
import { normalizeMessageId } from './sqlite/threads.ts';
import { Cql, num } from './cassandra/cql.ts';
import type { Statement } from './cassandra/cql.ts';
import { ensureSchema } from './cassandra/schema.ts';
import type { Replication } from './cassandra/schema.ts';
import { byCreation, MailboxTable, toMailbox, UserBoxes } from './cassandra/mailboxes.ts';
import type { BoxState } from './cassandra/mailboxes.ts';
import { MessageTable, toStored } from './cassandra/messages.ts';
import type { UidFacts } from './cassandra/messages.ts';
import { ThreadIndex } from './cassandra/threads.ts';
import { Deliveries } from './cassandra/deliver.ts';
import { ChangeApplier } from './cassandra/apply.ts';

export interface CassandraMailStoreOptions {
  /** `host:port` of one or more nodes (`ops/stack` starts one at 127.0.0.1:19042). */
  readonly contactPoints: readonly string[];
  /** The data center this process is in: LOCAL_QUORUM counts its replicas. */
  readonly localDataCenter: string;
  readonly keyspace: string;
  /** Replicas per data center for a keyspace that does not exist yet; default `{ [localDataCenter]: 1 }`. */
  readonly replication?: Replication;
}

export class CassandraMailStore implements MailStore {
  private readonly cql: Cql;
  private readonly boxes: MailboxTable;
  private readonly messageTable: MessageTable;
  private readonly threads: ThreadIndex;
  private readonly deliveries: Deliveries;
  private readonly changer: ChangeApplier;
  /** The tail of the queue of writes: one `deliver`/`apply`/directory write at a time. */
  private writing: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(private readonly client: cassandra.Client) {
    this.cql = new Cql(client);
    this.boxes = new MailboxTable(this.cql);
    this.messageTable = new MessageTable(this.cql);
    this.threads = new ThreadIndex(this.cql, this.messageTable);
    const userExists = async (id: string) => (await this.cql.row('SELECT id FROM users WHERE id = ?', [id])) !== null;
    this.deliveries = new Deliveries(this.cql, this.boxes, this.messageTable, this.threads, userExists);
    this.changer = new ChangeApplier(this.cql, this.boxes, this.messageTable, userExists);
  }

  /** Connects, creates the keyspace and tables if missing, and opens the store. */
  static async open(options: CassandraMailStoreOptions): Promise<CassandraMailStore> {
    const client = new cassandra.Client({
      contactPoints: [...options.contactPoints],
      localDataCenter: options.localDataCenter,
      queryOptions: { consistency: cassandra.types.consistencies.localQuorum, prepare: true },
    });
    try {
      await client.connect();
      await ensureSchema(client, options.keyspace, options.replication ?? { [options.localDataCenter]: 1 });
      await client.execute(`USE ${options.keyspace}`);
    } catch (err) {
      await client.shutdown().catch(() => {});
      throw err;
    }
    return new CassandraMailStore(client);
  }

  private write<T>(run: () => Promise<T>): Promise<T> {
    const next = this.writing.then(run, run);
    this.writing = next.catch(() => undefined);
    return next;
  }

  // — directory —

  async addDomain(name: string): Promise<void> {
    const domain = normalizeDomain(name);
    if (!domain) throw new Error(`invalid domain name: ${JSON.stringify(name)}`);
    await this.cql.execute('INSERT INTO domains (name) VALUES (?)', [domain]);
  }

  async domains(): Promise<string[]> {
    return (await this.cql.rows('SELECT name FROM domains')).map((r) => String(r.get('name'))).sort();
  }

  async isLocalDomain(name: string): Promise<boolean> {
    const domain = normalizeDomain(name);
    return domain.length > 0 && (await this.cql.row('SELECT name FROM domains WHERE name = ?', [domain])) !== null;
  }

  async addUser(address: string, passwordHash: string): Promise<User> {
    const trimmed = address.trim();
    const at = trimmed.lastIndexOf('@');
    if (at <= 0 || at === trimmed.length - 1) throw new Error(`invalid address: ${JSON.stringify(address)}`);
    const id = trimmed.toLowerCase();
    const domain = normalizeDomain(trimmed.slice(at + 1));
    if (!(await this.isLocalDomain(domain))) throw new Error(`domain ${domain} is not local`);
    return this.write(async () => {
      if (await this.user(id)) throw new Error(`user ${id} already exists`);
      // The folders first, the user row last: a user that exists has its folders, even after a
      // crash in between (a second `user add` then finds the folders and makes only the row).
      // Each mailbox its own UIDVALIDITY, so a later RENAME can never bring one back under an old name.
      const boxes = await UserBoxes.load(this.boxes, id);
      const out: Statement[] = [];
      for (const box of DEFAULT_MAILBOXES) {
        if (boxes.get(box.name)) continue;
        await boxes.create(box.name, box.specialUse, out);
        out.push(this.boxes.subscribe(id, box.name, true));
      }
      await this.cql.batch([...out, ...boxes.drain()]);
      const now = Date.now();
      const { applied } = await this.cql.lwt(
        'INSERT INTO users (id, address, password_hash, created_at, pop3_keep_mail) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS',
        [id, trimmed, passwordHash, now, false],
      );
      if (!applied) throw new Error(`user ${id} already exists`);
      return { id, address: trimmed, passwordHash, createdAt: now, pop3KeepMail: false };
    });
  }

  async user(address: string): Promise<User | null> {
    const row = await this.cql.row('SELECT * FROM users WHERE id = ?', [address.trim().toLowerCase()]);
    return row ? toUser(row) : null;
  }

  async users(): Promise<User[]> {
    return (await this.cql.rows('SELECT * FROM users')).map(toUser).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async updateUser(userId: string, update: UserUpdate): Promise<User> {
    const id = userId.trim().toLowerCase();
    const sets: string[] = [];
    const params: unknown[] = [];
    if (update.passwordHash !== undefined) {
      sets.push('password_hash = ?');
      params.push(update.passwordHash);
    }
    if (update.pop3KeepMail !== undefined) {
      sets.push('pop3_keep_mail = ?');
      params.push(update.pop3KeepMail);
    }
    if (sets.length > 0) {
      // LWT like the INSERT that made the row: the two kinds of write must not be mixed on one row.
      const { applied } = await this.cql.lwt(`UPDATE users SET ${sets.join(', ')} WHERE id = ? IF EXISTS`, [...params, id]);
      if (!applied) throw new Error(`user ${id} does not exist`);
    }
    const user = await this.user(id);
    if (!user) throw new Error(`user ${id} does not exist`);
    return user;
  }

  // — mailboxes —

  private async userFolders(userId: string): Promise<{ boxes: BoxState[]; subscribed: Set<string> }> {
    const [{ boxes }, subs] = await Promise.all([this.boxes.load(userId), this.boxes.subscriptions(userId)]);
    return { boxes: boxes.sort(byCreation), subscribed: new Set(subs) };
  }

  async mailboxes(userId: string): Promise<Mailbox[]> {
    const { boxes, subscribed } = await this.userFolders(userId.toLowerCase());
    return boxes.map((b) => toMailbox(b, subscribed.has(b.name)));
  }

  async mailbox(userId: string, name: string): Promise<Mailbox | null> {
    const wanted = mailboxName(name);
    return (await this.mailboxes(userId)).find((b) => b.name === wanted) ?? null;
  }

  async mailboxById(mailboxId: number): Promise<Mailbox | null> {
    const owner = await this.boxes.ownerOf(mailboxId);
    if (owner === null) return null;
    return (await this.mailboxes(owner)).find((b) => b.id === mailboxId) ?? null;
  }

  async subscriptions(userId: string): Promise<string[]> {
    return (await this.boxes.subscriptions(userId.toLowerCase())).sort();
  }

  async usage(userId: string): Promise<{ messages: number; bytes: number }> {
    const { boxes } = await this.boxes.load(userId.toLowerCase());
    return boxes.reduce((u, b) => ({ messages: u.messages + b.messages, bytes: u.bytes + b.size }), { messages: 0, bytes: 0 });
  }

  // — messages —

  async deliver(requests: readonly DeliverRequest[]): Promise<DeliverResult[]> {
    if (requests.length === 0) return [];
    return this.write(() => this.deliveries.deliver(requests));
  }

  async apply(changes: readonly MailboxChange[]): Promise<MailboxChangeResult[]> {
    if (changes.length === 0) return [];
    return this.write(() => this.changer.apply(changes));
  }

  /** The owner and name of a folder, or null. */
  private async folder(mailboxId: number): Promise<BoxState | null> {
    const owner = await this.boxes.ownerOf(mailboxId);
    if (owner === null) return null;
    return (await this.boxes.load(owner)).boxes.find((b) => b.id === mailboxId) ?? null;
  }

  private async stored(box: BoxState, facts: readonly UidFacts[]): Promise<StoredMessage[]> {
    return (await this.messageTable.records(facts)).map((r) => toStored(r, box.name));
  }

  async messages(mailboxId: number, afterUid = 0, limit?: number): Promise<StoredMessage[]> {
    const box = await this.folder(mailboxId);
    if (!box) return [];
    return this.stored(box, await this.messageTable.facts(box.userId, box.id, afterUid, limit));
  }

  async message(messageKey: string): Promise<StoredMessage | null> {
    const record = await this.messageTable.byKey(messageKey);
    if (!record) return null;
    const box = await this.folder(record.mailboxId);
    return toStored(record, box?.name ?? '');
  }

  async messagesByUid(mailboxId: number, uids: readonly number[]): Promise<StoredMessage[]> {
    if (uids.length === 0) return [];
    const box = await this.folder(mailboxId);
    if (!box) return [];
    return this.stored(box, await this.messageTable.factsOf(box.userId, box.id, uids));
  }

  async messageFacts(mailboxId: number, uids: readonly number[]): Promise<MessageFacts[]> {
    if (uids.length === 0) return [];
    const box = await this.folder(mailboxId);
    if (!box) return [];
    return (await this.messageTable.factsOf(box.userId, box.id, uids)).map((f) => ({
      messageKey: f.messageKey, uid: f.uid, modseq: f.modseq, flags: f.flags, receivedAt: f.receivedAt, size: f.size,
    }));
  }

  async summaries(mailboxId: number): Promise<MessageSummary[]> {
    const box = await this.folder(mailboxId);
    if (!box) return [];
    return (await this.messageTable.facts(box.userId, box.id)).map((f) => ({ uid: f.uid, modseq: f.modseq, flags: f.flags }));
  }

  async changes(mailboxId: number, sinceModseq: number): Promise<MailboxChanges> {
    const box = await this.folder(mailboxId);
    if (!box) return { changed: [], expunged: [], highestModseq: 0 };
    // Nothing above HIGHESTMODSEQ (an idle session's poll, or a caller that wants only the number): no scan.
    if (sinceModseq >= box.highestModseq) return { changed: [], expunged: [], highestModseq: box.highestModseq };
    // The folder row was read first: rows written after it may show up too, never fewer than its HIGHESTMODSEQ covers.
    const [facts, expunged] = await Promise.all([
      this.messageTable.changedSince(box.userId, box.id, sinceModseq),
      this.messageTable.expungedSince(box.userId, box.id, sinceModseq),
    ]);
    return {
      changed: await this.stored(box, facts),
      expunged,
      highestModseq: box.highestModseq,
    };
  }

  async hasMessageId(userId: string, messageId: string): Promise<boolean> {
    const bare = normalizeMessageId(messageId);
    if (bare === null) return false;
    const row = await this.cql.row('SELECT message_key FROM message_ids WHERE user_id = ? AND message_id = ? LIMIT 1', [userId.toLowerCase(), bare]);
    return row !== null;
  }

  async thread(userId: string, threadId: string): Promise<StoredMessage[]> {
    const keys = await this.threads.keys(userId.toLowerCase(), threadId);
    const found = await Promise.all(keys.map((k) => this.message(k)));
    return found.filter((m): m is StoredMessage => m !== null);
  }

  async countMessages(userId?: string): Promise<number> {
    if (userId !== undefined) return (await this.usage(userId)).messages;
    // A full scan of the key table: an operator's figure, not for a request path.
    const row = await this.cql.row('SELECT COUNT(*) AS n FROM message_keys');
    return num(row?.get('n'));
  }

  /** A read of `system.local` at consistency ONE: the coordinator answers (not a quorum check). */
  health(): Promise<EngineHealth> {
    return checkHealth('cassandra', async () => {
      if (this.closed) throw new Error('store is closed');
      const rs = await this.client.execute('SELECT release_version FROM system.local', [], { consistency: cassandra.types.consistencies.one });
      const version = rs.first()?.get('release_version') as string | undefined;
      return version ? `Cassandra ${version}` : undefined;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writing;
    await this.client.shutdown();
  }
}

function toUser(row: cassandra.types.Row): User {
  return {
    id: String(row.get('id')),
    address: String(row.get('address')),
    passwordHash: String(row.get('password_hash')),
    createdAt: num(row.get('created_at')),
    pop3KeepMail: row.get('pop3_keep_mail') === true,
  };
}

function normalizeDomain(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}
