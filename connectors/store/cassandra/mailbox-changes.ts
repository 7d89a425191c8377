/**
 * Client changes to the folder list on Cassandra: IMAP CREATE, RENAME, DELETE, SUBSCRIBE /
 * UNSUBSCRIBE — the rules of `../sqlite/mailbox-changes.ts`. A failure returns before anything
 * is written; the writes go to `out` for the caller's logged batch.
 */
import type { MailboxChange, MailboxChangeResult, SpecialUse } from '../store.ts';
import { checkNewMailboxName, isInbox, isInferior, mailboxName, MAX_MAILBOX_NAME, specialUseOf } from '../sqlite/names.ts';
import type { Statement } from './cql.ts';
import type { MailboxTable, UserBoxes } from './mailboxes.ts';
import type { MessageTable } from './messages.ts';
import { count, failed, uncount } from './message-changes.ts';
import type { Failed } from './message-changes.ts';

type Change<K extends MailboxChange['kind']> = Extract<MailboxChange, { kind: K }>;
type Changed = Extract<MailboxChangeResult, { kind: 'mailboxChanged' }>;

export class MailboxChanges {
  constructor(private readonly table: MailboxTable, private readonly messages: MessageTable) {}

  /**
   * RFC 9051 §6.3.4 CREATE: a new, empty, unsubscribed mailbox; missing superiors are created
   * too. A special-use attribute we do not support fails with [USEATTR] (RFC 6154 §3).
   */
  async create(change: Change<'createMailbox'>, boxes: UserBoxes, out: Statement[]): Promise<Changed | Failed> {
    const checked = checkNewMailboxName(change.name);
    if ('error' in checked) return failed('CANNOT', checked.error);
    const name = checked.name;
    if (isInbox(name) || boxes.get(name)) return failed('ALREADYEXISTS', `mailbox ${name} already exists`);
    let specialUse: SpecialUse | null = null;
    if (change.specialUse !== null) {
      specialUse = specialUseOf(change.specialUse);
      if (specialUse === null) return failed('USEATTR', `unsupported special-use attribute ${change.specialUse}`);
    }
    await boxes.createParents(name, false, out);
    const box = await boxes.create(name, specialUse, out);
    return changed('created', box.id, name, null, []);
  }

  /**
   * RFC 9051 §6.3.6 RENAME: inferiors follow; superiors of the new name are created. Renaming
   * INBOX moves its messages to a new mailbox and leaves INBOX empty (its inferiors stay).
   * Subscriptions are names and are not renamed (RFC 9051 §6.3.7).
   */
  async rename(change: Change<'renameMailbox'>, boxes: UserBoxes, out: Statement[]): Promise<Changed | Failed> {
    const from = mailboxName(change.from);
    const source = boxes.get(from);
    if (!source) return failed('NONEXISTENT', `no mailbox named ${change.from}`);
    const checked = checkNewMailboxName(change.to);
    if ('error' in checked) return failed('CANNOT', checked.error);
    const to = checked.name;
    if (isInbox(to) || boxes.get(to)) return failed('ALREADYEXISTS', `mailbox ${to} already exists`);
    if (isInferior(to, from)) return failed('CANNOT', `cannot rename ${from} to a name under itself`);

    if (from === 'INBOX') {
      await boxes.createParents(to, false, out);
      const moved = await boxes.create(to, null, out, { uidNext: source.uidNext, highestModseq: source.highestModseq });
      const rows = await this.messages.records(await this.messages.facts(boxes.userId, source.id));
      const modseq = source.highestModseq + 1;
      for (const row of rows) {
        out.push(...this.messages.remove(row, false), ...this.messages.insert({ ...row, mailboxId: moved.id }, true));
        out.push(this.messages.tombstone(boxes.userId, source.id, row.uid, modseq));
        uncount(source, row);
        count(moved, row);
      }
      if (rows.length > 0) {
        source.highestModseq = modseq;
        boxes.touch(source);
      }
      return changed('renamed', moved.id, to, from, []);
    }

    const renames = boxes.all().filter((b) => isInferior(b.name, from)).map((b) => ({ box: b, to: to + b.name.slice(from.length) }));
    for (const r of renames) {
      if (r.to.length > MAX_MAILBOX_NAME) return failed('CANNOT', `mailbox name ${r.to} would be too long`);
      if (boxes.get(r.to)) return failed('ALREADYEXISTS', `mailbox ${r.to} already exists`);
    }
    await boxes.createParents(to, false, out);
    boxes.rename(source, to, out);
    for (const r of renames) boxes.rename(r.box, r.to, out);
    return changed('renamed', source.id, to, from, []);
  }

  /** RFC 9051 §6.3.5 DELETE: the mailbox and its messages; INBOX cannot go; inferiors stay. */
  async delete(change: Change<'deleteMailbox'>, boxes: UserBoxes, out: Statement[]): Promise<Changed | Failed> {
    const name = mailboxName(change.name);
    if (name === 'INBOX') return failed('CANNOT', 'INBOX cannot be deleted');
    const box = boxes.get(name);
    if (!box) return failed('NONEXISTENT', `no mailbox named ${change.name}`);
    const rows = await this.messages.records(await this.messages.facts(boxes.userId, box.id));
    for (const row of rows) out.push(...this.messages.remove(row, true));
    out.push({ query: 'DELETE FROM expunged WHERE user_id = ? AND mailbox_id = ?', params: [boxes.userId, box.id] });
    boxes.remove(box, out);
    return changed('deleted', box.id, name, null, rows.map((r) => r.messageKey));
  }

  /** RFC 9051 §6.3.7/§6.3.8 SUBSCRIBE / UNSUBSCRIBE: by name, whether or not the mailbox exists. */
  subscribe(change: Change<'subscribe'>, boxes: UserBoxes, out: Statement[]): Changed | Failed {
    const name = mailboxName(change.name);
    if (name.length === 0) return failed('CANNOT', 'empty mailbox name');
    out.push(this.table.subscribe(boxes.userId, name, change.subscribed));
    return changed(change.subscribed ? 'subscribed' : 'unsubscribed', boxes.get(name)?.id ?? 0, name, null, []);
  }
}

function changed(change: Changed['change'], mailboxId: number, name: string, oldName: string | null, removedKeys: string[]): Changed {
  return { kind: 'mailboxChanged', change, mailboxId, name, oldName, removedKeys };
}
