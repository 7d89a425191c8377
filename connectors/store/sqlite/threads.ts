/**
 * Thread ids (JMAP `threadId`, the grouping behind IMAP THREAD=REFERENCES): the idea of
 * RFC 5256 §2.2 REFERENCES, simplified to "connected by Message-IDs", without the subject
 * fallback.
 *
 * A message joins the thread of any message whose Message-ID it names in In-Reply-To or
 * References, and of any earlier message that named its own Message-ID (a reply that arrived
 * before its parent). If that reaches several threads they are merged into the smallest id,
 * so the result depends only on the order of deliveries (the log order), never on timing.
 * Otherwise the message starts a thread whose id derives from its message key.
 *
 * Must run inside the caller's write transaction.
 */
import { createHash } from 'node:crypto';
import type { Db } from './schema.ts';

/** Referenced ids considered per message: In-Reply-To plus the last ones of References. */
const MAX_REFERENCES = 100;

/** A Message-ID as the thread table keys it: trimmed, without its angle brackets. */
export function normalizeMessageId(id: string | null | undefined): string | null {
  if (!id) return null;
  let s = id.trim();
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1).trim();
  return s.length > 0 ? s : null;
}

export interface ThreadInput {
  readonly userId: string;
  readonly messageKey: string;
  readonly messageId: string | null;
  readonly inReplyTo: string | null;
  readonly references: readonly string[];
}

export class ThreadTable {
  private readonly find;
  private readonly register;
  private readonly repointMessages;
  private readonly repointThreads;

  constructor(db: Db) {
    this.find = db.prepare<[string, string], string>('SELECT thread_id FROM threads WHERE user_id = ? AND message_id = ?').pluck();
    this.register = db.prepare<[string, string, string]>(
      `INSERT INTO threads (user_id, message_id, thread_id) VALUES (?, ?, ?)
       ON CONFLICT (user_id, message_id) DO UPDATE SET thread_id = excluded.thread_id`,
    );
    this.repointMessages = db.prepare<[string, string, string]>('UPDATE messages SET thread_id = ? WHERE user_id = ? AND thread_id = ?');
    this.repointThreads = db.prepare<[string, string, string]>('UPDATE threads SET thread_id = ? WHERE user_id = ? AND thread_id = ?');
  }

  /** The thread id of a new message; merges the threads it connects and records its ids. */
  assign(input: ThreadInput): string {
    const own = normalizeMessageId(input.messageId);
    const referenced = new Set<string>();
    for (const id of [input.inReplyTo, ...input.references.slice(-MAX_REFERENCES)]) {
      const n = normalizeMessageId(id);
      if (n !== null && n !== own) referenced.add(n);
    }
    const named = own === null ? [...referenced] : [own, ...referenced];

    const found = new Set<string>();
    for (const id of named) {
      const thread = this.find.get(input.userId, id);
      if (thread !== undefined) found.add(thread);
    }
    let threadId: string;
    if (found.size === 0) {
      threadId = createHash('sha256').update(input.messageKey).digest('hex').slice(0, 16);
    } else {
      const sorted = [...found].sort();
      threadId = sorted[0];
      for (const other of sorted.slice(1)) {
        this.repointMessages.run(threadId, input.userId, other);
        this.repointThreads.run(threadId, input.userId, other);
      }
    }
    for (const id of named) this.register.run(input.userId, id, threadId);
    return threadId;
  }
}
