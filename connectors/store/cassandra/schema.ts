/**
 * The Cassandra mail store's keyspace and tables (CQL), created if missing when a store opens.
 *
 * The seed's data model: everything a user owns is partitioned by the user's id — the folders
 * (`mailboxes`), the messages of each folder clustered by received time, kept in two tables,
 * `unread_messages` and `read_messages` (the seed's denormalisation: a folder's unread mail is
 * one slice of one partition), and the lean per-UID facts IMAP needs (`message_uids`, clustered
 * by folder and UID: UID order is arrival order in the folder, RFC 9051 §2.3.1.1). The mailbox
 * row keeps UIDNEXT, HIGHESTMODSEQ and the counts, advanced by the single writer (the store
 * stage) in the same logged batch as the rows they count. Global look-ups — a message by key,
 * a mailbox by numeric id, a command already applied — have tables of their own.
 *
 * Numbers are `bigint` (the driver's Long; `num()` in rows.ts makes them JS numbers).
 */
import type { Client } from 'cassandra-driver';

/** Replication of the keyspace: NetworkTopologyStrategy, replicas per data center. */
export type Replication = Readonly<Record<string, number>>;

const TABLES: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS domains (name text PRIMARY KEY)`,
  // The directory. Written by the CLI (LWT: INSERT IF NOT EXISTS / UPDATE IF EXISTS), not by the store stage.
  `CREATE TABLE IF NOT EXISTS users (
     id text PRIMARY KEY, address text, password_hash text, created_at bigint, pop3_keep_mail boolean)`,
  // The seed's "users' email folders": partitioned by user. `last_uidvalidity` (static: one per
  // user) keeps UIDVALIDITY increasing across deletes and re-creates (RFC 9051 §2.3.1.1).
  `CREATE TABLE IF NOT EXISTS mailboxes (
     user_id text, name text, id bigint, special_use text, uidvalidity bigint, uidnext bigint,
     highestmodseq bigint, messages bigint, unseen bigint, size bigint,
     last_uidvalidity bigint STATIC,
     PRIMARY KEY ((user_id), name))`,
  // Numeric mailbox ids (IMAP sessions and the log's events carry them) → owner. Written once
  // with INSERT IF NOT EXISTS: the LWT is what makes an id unique across all users.
  `CREATE TABLE IF NOT EXISTS mailbox_ids (id bigint PRIMARY KEY, user_id text)`,
  // RFC 9051 §6.3.7: subscriptions are names, kept whether or not the mailbox exists.
  `CREATE TABLE IF NOT EXISTS subscriptions (user_id text, name text, PRIMARY KEY ((user_id), name))`,
  // IMAP's view of a folder: one lean row per UID (SELECT, FETCH FLAGS, CONDSTORE/QRESYNC).
  `CREATE TABLE IF NOT EXISTS message_uids (
     user_id text, mailbox_id bigint, uid bigint, message_key text, modseq bigint, flags list<text>,
     seen boolean, received_at bigint, size bigint,
     PRIMARY KEY ((user_id), mailbox_id, uid))`,
  // A folder's messages by MODSEQ: what changed since a MODSEQ (CONDSTORE/QRESYNC, RFC 7162) is one slice.
  `CREATE TABLE IF NOT EXISTS message_modseqs (
     user_id text, mailbox_id bigint, modseq bigint, uid bigint, PRIMARY KEY ((user_id), mailbox_id, modseq, uid))`,
  // The seed's "emails by folder, clustered by received time", split into read and unread.
  ...['unread_messages', 'read_messages'].map(
    (table) => `CREATE TABLE IF NOT EXISTS ${table} (
     user_id text, mailbox_id bigint, received_at bigint, uid bigint, message_key text, modseq bigint,
     thread_id text, flags list<text>, size bigint, message_id text, in_reply_to text, refs text, subject text,
     from_json text, to_json text, cc_json text, date bigint, skeleton_blob text, parts text,
     PRIMARY KEY ((user_id), mailbox_id, received_at, uid))
     WITH CLUSTERING ORDER BY (mailbox_id ASC, received_at DESC, uid DESC)`,
  ),
  // A message by its key (idempotency of deliveries, `message()`): where it lives now — the full
  // row's whole primary key and table (`seen`), so one more read fetches it.
  `CREATE TABLE IF NOT EXISTS message_keys (
     message_key text PRIMARY KEY, user_id text, mailbox_id bigint, uid bigint, received_at bigint, seen boolean)`,
  // Expunged UIDs by the MODSEQ of their expunge (RFC 7162 §3.2.10 VANISHED): a UID is never
  // given twice in a folder, so it is expunged there at most once.
  `CREATE TABLE IF NOT EXISTS expunged (
     user_id text, mailbox_id bigint, modseq bigint, uid bigint, PRIMARY KEY ((user_id), mailbox_id, modseq, uid))`,
  // Message-IDs of the user's stored messages (import de-duplication).
  `CREATE TABLE IF NOT EXISTS message_ids (
     user_id text, message_id text, message_key text, PRIMARY KEY ((user_id), message_id, message_key))`,
  // Threads: every Message-ID a user's mail has named → its thread; and each thread's ids and messages.
  `CREATE TABLE IF NOT EXISTS threads (user_id text, message_id text, thread_id text, PRIMARY KEY ((user_id), message_id))`,
  `CREATE TABLE IF NOT EXISTS thread_ids (user_id text, thread_id text, message_id text, PRIMARY KEY ((user_id), thread_id, message_id))`,
  `CREATE TABLE IF NOT EXISTS thread_messages (
     user_id text, thread_id text, message_key text, received_at bigint,
     PRIMARY KEY ((user_id), thread_id, message_key))`,
  // Client changes applied, by command id, with their result (a replay returns it).
  `CREATE TABLE IF NOT EXISTS applied_commands (command_id text PRIMARY KEY, result text, applied_at bigint)`,
];

/** A keyspace name CQL accepts unquoted. */
export function checkKeyspaceName(name: string): string {
  if (!/^[a-z][a-z0-9_]{0,47}$/.test(name)) throw new Error(`invalid Cassandra keyspace name: ${JSON.stringify(name)}`);
  return name;
}

/**
 * Creates the keyspace (NetworkTopologyStrategy) and the tables if missing. Schema changes go
 * through one client, one statement at a time, so the node agrees on each before the next.
 */
export async function ensureSchema(client: Client, keyspace: string, replication: Replication): Promise<void> {
  checkKeyspaceName(keyspace);
  const dcs = Object.entries(replication);
  if (dcs.length === 0) throw new Error('Cassandra replication: at least one data center');
  const repl = dcs.map(([dc, n]) => `'${dc.replace(/'/g, "''")}': ${Math.trunc(n)}`).join(', ');
  await client.execute(
    `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'NetworkTopologyStrategy', ${repl}}`,
  );
  const existing = await client.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [keyspace]);
  const have = new Set(existing.rows.map((r) => String(r.get('table_name'))));
  for (const cql of TABLES) {
    const name = /EXISTS (\w+)/.exec(cql)![1];
    if (!have.has(name)) await client.execute(cql.replace(`EXISTS ${name}`, `EXISTS ${keyspace}.${name}`));
  }
}
