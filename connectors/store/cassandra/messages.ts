/**
 * Message rows on Cassandra: reads (lean per-UID facts, full rows from the read or unread
 * table, a message by key) and the statements that write them. Every write of a message goes
 * to all its tables in the caller's logged batch: `message_uids` (IMAP's per-UID facts), the
 * full row in `read_messages` or `unread_messages` (by `\Seen`), `message_modseqs`,
 * `message_keys`, `message_ids` and `thread_messages`.
 *
 * A batch gives all its statements one timestamp, and a delete wins a tie with an insert of the
 * same primary key: the builders here never delete and insert one key in the same batch.
 */
import type { Address, BodyRef, MessageFacts, StoredMessage } from '../store.ts';
import { hasFlag } from '../sqlite/names.ts';
import { normalizeMessageId } from '../sqlite/threads.ts';
import type { Cql, Statement } from './cql.ts';
import { num, numOrNull } from './cql.ts';
import type { types } from 'cassandra-driver';

/** A message as stored, with the fields the store keeps but does not return (threading input). */
export interface MessageRecord {
  readonly messageKey: string;
  readonly userId: string;
  readonly mailboxId: number;
  readonly uid: number;
  readonly modseq: number;
  readonly threadId: string;
  readonly flags: readonly string[];
  readonly receivedAt: number;
  readonly size: number;
  readonly body: BodyRef;
  readonly messageId: string | null;
  readonly inReplyTo: string | null;
  readonly references: readonly string[];
  readonly subject: string;
  readonly from: readonly Address[];
  readonly to: readonly Address[];
  readonly cc: readonly Address[];
  readonly date: number | null;
}

/** Where a message's rows are: its `message_uids` row's facts. */
export interface UidFacts extends MessageFacts {
  readonly userId: string;
  readonly mailboxId: number;
  readonly seen: boolean;
}

export const isSeen = (flags: readonly string[]): boolean => hasFlag(flags, '\\Seen');
const fullTable = (seen: boolean) => (seen ? 'read_messages' : 'unread_messages');

const FACT_COLUMNS = 'user_id, mailbox_id, uid, message_key, modseq, flags, seen, received_at, size';

function toFacts(row: types.Row): UidFacts {
  return {
    userId: String(row.get('user_id')),
    mailboxId: num(row.get('mailbox_id')),
    uid: num(row.get('uid')),
    messageKey: String(row.get('message_key')),
    modseq: num(row.get('modseq')),
    flags: (row.get('flags') as string[] | null) ?? [],
    seen: row.get('seen') === true,
    receivedAt: num(row.get('received_at')),
    size: num(row.get('size')),
  };
}

function toRecord(row: types.Row): MessageRecord {
  return {
    messageKey: String(row.get('message_key')),
    userId: String(row.get('user_id')),
    mailboxId: num(row.get('mailbox_id')),
    uid: num(row.get('uid')),
    modseq: num(row.get('modseq')),
    threadId: String(row.get('thread_id')),
    flags: (row.get('flags') as string[] | null) ?? [],
    receivedAt: num(row.get('received_at')),
    size: num(row.get('size')),
    body: { skeletonBlob: String(row.get('skeleton_blob')), parts: JSON.parse(String(row.get('parts'))) as BodyRef['parts'] },
    messageId: (row.get('message_id') as string | null) ?? null,
    inReplyTo: (row.get('in_reply_to') as string | null) ?? null,
    references: JSON.parse(String(row.get('refs'))) as string[],
    subject: String(row.get('subject') ?? ''),
    from: JSON.parse(String(row.get('from_json'))) as Address[],
    to: JSON.parse(String(row.get('to_json'))) as Address[],
    cc: JSON.parse(String(row.get('cc_json'))) as Address[],
    date: numOrNull(row.get('date')),
  };
}

export function toStored(record: MessageRecord, mailbox: string): StoredMessage {
  return {
    messageKey: record.messageKey,
    userId: record.userId,
    mailboxId: record.mailboxId,
    mailbox,
    uid: record.uid,
    modseq: record.modseq,
    threadId: record.threadId,
    flags: [...record.flags],
    receivedAt: record.receivedAt,
    size: record.size,
    body: record.body,
    messageId: record.messageId,
    subject: record.subject,
    from: record.from,
    to: record.to,
    cc: record.cc,
    date: record.date,
  };
}

/** Reads at most this many full rows at once (one query each, in flight together). */
const READ_CONCURRENCY = 64;

export class MessageTable {
  constructor(private readonly cql: Cql) {}

  /** The facts of a folder's messages in UID order: all, or from `afterUid` (exclusive), at most `limit`. */
  async facts(userId: string, mailboxId: number, afterUid = 0, limit?: number): Promise<UidFacts[]> {
    const cap = limit === undefined || limit < 0 ? '' : ` LIMIT ${Math.trunc(limit)}`;
    const rows = await this.cql.rows(
      `SELECT ${FACT_COLUMNS} FROM message_uids WHERE user_id = ? AND mailbox_id = ? AND uid > ?${cap}`,
      [userId, mailboxId, afterUid],
    );
    return rows.map(toFacts);
  }

  /** The facts of these UIDs (missing ones skipped), in UID order. */
  async factsOf(userId: string, mailboxId: number, uids: readonly number[]): Promise<UidFacts[]> {
    const wanted = [...new Set(uids.filter((u) => Number.isInteger(u) && u > 0))].sort((a, b) => a - b);
    if (wanted.length === 0) return [];
    const lo = wanted[0];
    const hi = wanted[wanted.length - 1];
    // A dense set (1:*, 1:100 …) is one slice of the partition; a sparse one an IN on the clustering column.
    const rows = hi - lo + 1 <= 2 * wanted.length
      ? await this.cql.rows(
        `SELECT ${FACT_COLUMNS} FROM message_uids WHERE user_id = ? AND mailbox_id = ? AND uid >= ? AND uid <= ?`,
        [userId, mailboxId, lo, hi],
      )
      : await this.cql.rows(
        `SELECT ${FACT_COLUMNS} FROM message_uids WHERE user_id = ? AND mailbox_id = ? AND uid IN ?`,
        [userId, mailboxId, wanted],
      );
    const set = new Set(wanted);
    return rows.map(toFacts).filter((f) => set.has(f.uid));
  }

  /** The full rows of these facts, in the same order (a row missing from its table is skipped). */
  async records(facts: readonly UidFacts[]): Promise<MessageRecord[]> {
    const out: (MessageRecord | null)[] = new Array<MessageRecord | null>(facts.length).fill(null);
    for (let i = 0; i < facts.length; i += READ_CONCURRENCY) {
      await Promise.all(facts.slice(i, i + READ_CONCURRENCY).map(async (f, j) => {
        const row = await this.cql.row(
          `SELECT * FROM ${fullTable(f.seen)} WHERE user_id = ? AND mailbox_id = ? AND received_at = ? AND uid = ?`,
          [f.userId, f.mailboxId, f.receivedAt, f.uid],
        );
        out[i + j] = row ? toRecord(row) : null;
      }));
    }
    return out.filter((r): r is MessageRecord => r !== null);
  }

  /** Where a message key lives now, or null. */
  /** A message by key: its `message_keys` row names the full row, which is then read. */
  async byKey(messageKey: string): Promise<MessageRecord | null> {
    const key = await this.cql.row('SELECT user_id, mailbox_id, uid, received_at, seen FROM message_keys WHERE message_key = ?', [messageKey]);
    if (!key) return null;
    const row = await this.cql.row(
      `SELECT * FROM ${fullTable(key.get('seen') === true)} WHERE user_id = ? AND mailbox_id = ? AND received_at = ? AND uid = ?`,
      [key.get('user_id'), key.get('mailbox_id'), key.get('received_at'), key.get('uid')],
    );
    const record = row ? toRecord(row) : null;
    return record && record.messageKey === messageKey ? record : null;
  }

  // — statements —

  /** All rows of a new message (or of a message at a new place: then `keepIndexes` skips the rows keyed by key/id). */
  insert(m: MessageRecord, keepIndexes = false): Statement[] {
    const seen = isSeen(m.flags);
    const out: Statement[] = [
      {
        query: `INSERT INTO message_uids (${FACT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        params: [m.userId, m.mailboxId, m.uid, m.messageKey, m.modseq, [...m.flags], seen, m.receivedAt, m.size],
      },
      this.insertFull(m),
      this.indexModseq(m),
      {
        query: 'INSERT INTO message_keys (message_key, user_id, mailbox_id, uid, received_at, seen) VALUES (?, ?, ?, ?, ?, ?)',
        params: [m.messageKey, m.userId, m.mailboxId, m.uid, m.receivedAt, seen],
      },
    ];
    if (keepIndexes) return out;
    const id = normalizeMessageId(m.messageId);
    if (id !== null) {
      out.push({ query: 'INSERT INTO message_ids (user_id, message_id, message_key) VALUES (?, ?, ?)', params: [m.userId, id, m.messageKey] });
    }
    out.push({
      query: 'INSERT INTO thread_messages (user_id, thread_id, message_key, received_at) VALUES (?, ?, ?, ?)',
      params: [m.userId, m.threadId, m.messageKey, m.receivedAt],
    });
    return out;
  }

  insertFull(m: MessageRecord): Statement {
    return {
      query: `INSERT INTO ${fullTable(isSeen(m.flags))} (user_id, mailbox_id, received_at, uid, message_key, modseq, thread_id, flags, size,
        message_id, in_reply_to, refs, subject, from_json, to_json, cc_json, date, skeleton_blob, parts)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      params: [
        m.userId, m.mailboxId, m.receivedAt, m.uid, m.messageKey, m.modseq, m.threadId, [...m.flags], m.size,
        m.messageId, m.inReplyTo, JSON.stringify(m.references), m.subject, JSON.stringify(m.from), JSON.stringify(m.to),
        JSON.stringify(m.cc), m.date, m.body.skeletonBlob, JSON.stringify(m.body.parts),
      ],
    };
  }

  /** Removes the message at its place (`message_uids` and the full row); `dropIndexes`: its key, Message-ID and thread rows too. */
  remove(m: MessageRecord, dropIndexes: boolean): Statement[] {
    const out: Statement[] = [
      { query: 'DELETE FROM message_uids WHERE user_id = ? AND mailbox_id = ? AND uid = ?', params: [m.userId, m.mailboxId, m.uid] },
      this.removeFull(m, isSeen(m.flags)),
      this.unindexModseq(m),
    ];
    if (!dropIndexes) return out;
    out.push({ query: 'DELETE FROM message_keys WHERE message_key = ?', params: [m.messageKey] });
    const id = normalizeMessageId(m.messageId);
    if (id !== null) {
      out.push({ query: 'DELETE FROM message_ids WHERE user_id = ? AND message_id = ? AND message_key = ?', params: [m.userId, id, m.messageKey] });
    }
    out.push({
      query: 'DELETE FROM thread_messages WHERE user_id = ? AND thread_id = ? AND message_key = ?',
      params: [m.userId, m.threadId, m.messageKey],
    });
    return out;
  }

  removeFull(m: MessageRecord, seen: boolean): Statement {
    return {
      query: `DELETE FROM ${fullTable(seen)} WHERE user_id = ? AND mailbox_id = ? AND received_at = ? AND uid = ?`,
      params: [m.userId, m.mailboxId, m.receivedAt, m.uid],
    };
  }

  /**
   * New flags and MODSEQ of a message in place; when `\Seen` changes the full row moves between
   * the read and unread tables (a delete in one, an insert in the other: two keys, no tie).
   */
  reflag(before: MessageRecord, after: MessageRecord): Statement[] {
    const seen = isSeen(after.flags);
    const out: Statement[] = [
      {
        query: 'UPDATE message_uids SET flags = ?, seen = ?, modseq = ? WHERE user_id = ? AND mailbox_id = ? AND uid = ?',
        params: [[...after.flags], seen, after.modseq, after.userId, after.mailboxId, after.uid],
      },
    ];
    if (after.modseq !== before.modseq) out.push(this.unindexModseq(before), this.indexModseq(after));
    if (seen === isSeen(before.flags)) {
      out.push({
        query: `UPDATE ${fullTable(seen)} SET flags = ?, modseq = ? WHERE user_id = ? AND mailbox_id = ? AND received_at = ? AND uid = ?`,
        params: [[...after.flags], after.modseq, after.userId, after.mailboxId, after.receivedAt, after.uid],
      });
    } else {
      out.push(this.removeFull(before, !seen), this.insertFull(after));
      out.push({ query: 'UPDATE message_keys SET seen = ? WHERE message_key = ?', params: [seen, after.messageKey] });
    }
    return out;
  }

  private indexModseq(m: MessageRecord): Statement {
    return {
      query: 'INSERT INTO message_modseqs (user_id, mailbox_id, modseq, uid) VALUES (?, ?, ?, ?)',
      params: [m.userId, m.mailboxId, m.modseq, m.uid],
    };
  }

  private unindexModseq(m: MessageRecord): Statement {
    return {
      query: 'DELETE FROM message_modseqs WHERE user_id = ? AND mailbox_id = ? AND modseq = ? AND uid = ?',
      params: [m.userId, m.mailboxId, m.modseq, m.uid],
    };
  }

  /** The facts of the messages of a folder with a MODSEQ above `sinceModseq`, in UID order. */
  async changedSince(userId: string, mailboxId: number, sinceModseq: number): Promise<UidFacts[]> {
    const rows = await this.cql.rows('SELECT uid FROM message_modseqs WHERE user_id = ? AND mailbox_id = ? AND modseq > ?', [userId, mailboxId, sinceModseq]);
    if (rows.length === 0) return [];
    // The per-UID row is the authority: an index row it contradicts is skipped.
    return (await this.factsOf(userId, mailboxId, rows.map((r) => num(r.get('uid'))))).filter((f) => f.modseq > sinceModseq);
  }

  /** A tombstone for VANISHED (RFC 7162 §3.2.10). */
  tombstone(userId: string, mailboxId: number, uid: number, modseq: number): Statement {
    return {
      query: 'INSERT INTO expunged (user_id, mailbox_id, uid, modseq) VALUES (?, ?, ?, ?)',
      params: [userId, mailboxId, uid, modseq],
    };
  }

  async expungedSince(userId: string, mailboxId: number, sinceModseq: number): Promise<number[]> {
    const rows = await this.cql.rows('SELECT uid FROM expunged WHERE user_id = ? AND mailbox_id = ? AND modseq > ?', [userId, mailboxId, sinceModseq]);
    return rows.map((r) => num(r.get('uid'))).sort((a, b) => a - b);
  }
}
