/**
 * `MailStore.deliver` on SQLite: one delivery at a time, inside the caller's write transaction.
 * Idempotent by message key. A delivery takes the mailbox's UIDNEXT and HIGHESTMODSEQ + 1 and
 * advances both, so UIDs and MODSEQs follow the log order (RFC 9051 §2.3.1.1, RFC 7162 §3.1).
 */
import type { DeliverRequest, DeliverResult } from '../store.ts';
import type { Db } from './schema.ts';
import type { MailboxState, MailboxTable } from './mailboxes.ts';
import { MESSAGE_COLUMNS, toMessage } from './rows.ts';
import type { MessageRow } from './rows.ts';
import { checkNewMailboxName, hasFlag, mailboxName, storedFlags } from './names.ts';
import { ThreadTable } from './threads.ts';

export const MESSAGE_SELECT = `SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id`;

export class Deliveries {
  private readonly byKey;
  private readonly userExists;
  private readonly insertMessage;
  private readonly threads: ThreadTable;

  constructor(db: Db, private readonly mailboxes: MailboxTable) {
    this.byKey = db.prepare<[string], MessageRow>(`${MESSAGE_SELECT} WHERE m.message_key = ?`);
    this.userExists = db.prepare<[string], number>('SELECT 1 FROM users WHERE id = ?').pluck();
    this.insertMessage = db.prepare(
      `INSERT INTO messages (message_key, user_id, mailbox_id, uid, modseq, thread_id, received_at, size, flags, seen,
         message_id, in_reply_to, refs, subject, from_json, to_json, cc_json, date, skeleton_blob, parts)
       VALUES (@messageKey, @userId, @mailboxId, @uid, @modseq, @threadId, @receivedAt, @size, @flags, @seen,
         @messageId, @inReplyTo, @refs, @subject, @from, @to, @cc, @date, @skeletonBlob, @parts)`,
    );
    this.threads = new ThreadTable(db);
  }

  deliver(request: DeliverRequest): DeliverResult {
    const existing = this.byKey.get(request.messageKey);
    if (existing) return { created: false, message: toMessage(existing) };

    const userId = request.userId.toLowerCase();
    const target = this.targetMailbox(userId, mailboxName(request.mailbox));
    if (!target) throw new Error(`cannot deliver ${request.messageKey}: unknown user ${userId}`);
    const uid = target.uidnext;
    const modseq = target.highestmodseq + 1;
    this.mailboxes.advance.run(uid + 1, modseq, target.id);

    const threadId = this.threads.assign({
      userId,
      messageKey: request.messageKey,
      messageId: request.messageId,
      inReplyTo: request.inReplyTo,
      references: request.references,
    });
    const flags = storedFlags(request.flags);
    this.insertMessage.run({
      messageKey: request.messageKey,
      userId,
      mailboxId: target.id,
      uid,
      modseq,
      threadId,
      receivedAt: request.receivedAt,
      size: request.size,
      flags: JSON.stringify(flags),
      seen: hasFlag(flags, '\\Seen') ? 1 : 0,
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
    return { created: true, message: toMessage(this.byKey.get(request.messageKey)!) };
  }

  /**
   * The mailbox a delivery goes to; a name the user does not have yet (an imported folder) is
   * created — with its missing superiors when the name is a valid hierarchy — and subscribed,
   * so that clients listing subscribed folders show it, as IMAP APPEND's [TRYCREATE] would let
   * a client do (RFC 9051 §6.3.12).
   */
  private targetMailbox(userId: string, name: string): MailboxState | undefined {
    const found = this.mailboxes.stateByName.get(userId, name);
    if (found || this.userExists.get(userId) === undefined) return found;
    if (!name.trim() || name.length > 1000) return this.mailboxes.stateByName.get(userId, 'INBOX');
    const checked = checkNewMailboxName(name);
    if ('name' in checked && checked.name === name) this.mailboxes.createParents(userId, name, true);
    this.mailboxes.create(userId, name, null);
    this.mailboxes.subscribe(userId, name, true);
    return this.mailboxes.stateByName.get(userId, name);
  }
}
