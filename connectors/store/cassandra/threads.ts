/**
 * Thread ids on Cassandra, by the rule of `../sqlite/threads.ts` (RFC 5256 §2.2 REFERENCES,
 * simplified to "connected by Message-IDs"): a message joins the threads of the ids it names and
 * of earlier messages that named its own id; several such threads merge into the smallest id;
 * none gives a new id derived from the message key. The result depends only on delivery order.
 *
 * `threads` maps (user, Message-ID) → thread; `thread_ids` and `thread_messages` list a thread's
 * ids and messages, so a merge can re-point them (and the messages' own rows) without a scan.
 */
import { createHash } from 'node:crypto';
import { normalizeMessageId } from '../sqlite/threads.ts';
import type { ThreadInput } from '../sqlite/threads.ts';
import type { Cql, Statement } from './cql.ts';
import { num } from './cql.ts';
import type { MessageTable } from './messages.ts';

/** Referenced ids considered per message: In-Reply-To plus the last ones of References. */
const MAX_REFERENCES = 100;

export class ThreadIndex {
  constructor(private readonly cql: Cql, private readonly messages: MessageTable) {}

  /**
   * The thread id of a new message. Merges of other threads are written at once (each message
   * re-pointed in its own batch: a merge interrupted by a crash is finished by the replay, which
   * finds the same threads); the new message's own id rows go to `out`.
   */
  async assign(input: ThreadInput, out: Statement[]): Promise<string> {
    const own = normalizeMessageId(input.messageId);
    const referenced = new Set<string>();
    for (const id of [input.inReplyTo, ...input.references.slice(-MAX_REFERENCES)]) {
      const n = normalizeMessageId(id);
      if (n !== null && n !== own) referenced.add(n);
    }
    const named = own === null ? [...referenced] : [own, ...referenced];
    const found = new Set<string>();
    if (named.length > 0) {
      const rows = await this.cql.rows('SELECT thread_id FROM threads WHERE user_id = ? AND message_id IN ?', [input.userId, named]);
      for (const r of rows) found.add(String(r.get('thread_id')));
    }
    let threadId: string;
    if (found.size === 0) {
      threadId = createHash('sha256').update(input.messageKey).digest('hex').slice(0, 16);
    } else {
      const sorted = [...found].sort();
      threadId = sorted[0];
      for (const other of sorted.slice(1)) await this.merge(input.userId, other, threadId);
    }
    for (const id of named) out.push(...this.register(input.userId, id, threadId));
    return threadId;
  }

  private register(userId: string, messageId: string, threadId: string): Statement[] {
    return [
      { query: 'INSERT INTO threads (user_id, message_id, thread_id) VALUES (?, ?, ?)', params: [userId, messageId, threadId] },
      { query: 'INSERT INTO thread_ids (user_id, thread_id, message_id) VALUES (?, ?, ?)', params: [userId, threadId, messageId] },
    ];
  }

  /** Moves thread `from`'s messages and ids into thread `into`. */
  private async merge(userId: string, from: string, into: string): Promise<void> {
    const members = await this.cql.rows('SELECT message_key, received_at FROM thread_messages WHERE user_id = ? AND thread_id = ?', [userId, from]);
    for (const member of members) {
      const key = String(member.get('message_key'));
      const record = await this.messages.byKey(key);
      const out: Statement[] = [
        { query: 'DELETE FROM thread_messages WHERE user_id = ? AND thread_id = ? AND message_key = ?', params: [userId, from, key] },
        {
          query: 'INSERT INTO thread_messages (user_id, thread_id, message_key, received_at) VALUES (?, ?, ?, ?)',
          params: [userId, into, key, member.get('received_at')],
        },
      ];
      if (record) out.push(this.messages.insertFull({ ...record, threadId: into }));
      await this.cql.batch(out);
    }
    const ids = await this.cql.rows('SELECT message_id FROM thread_ids WHERE user_id = ? AND thread_id = ?', [userId, from]);
    const out: Statement[] = ids.flatMap((r) => this.register(userId, String(r.get('message_id')), into));
    out.push({ query: 'DELETE FROM thread_ids WHERE user_id = ? AND thread_id = ?', params: [userId, from] });
    await this.cql.batch(out);
  }

  /** Message keys of one thread, in received order. */
  async keys(userId: string, threadId: string): Promise<string[]> {
    const rows = await this.cql.rows('SELECT message_key, received_at FROM thread_messages WHERE user_id = ? AND thread_id = ?', [userId, threadId]);
    return rows
      .map((r) => ({ key: String(r.get('message_key')), at: num(r.get('received_at')) }))
      .sort((a, b) => a.at - b.at || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((r) => r.key);
  }
}
