/**
 * Client changes to the mailbox list: IMAP CREATE, RENAME, DELETE, SUBSCRIBE / UNSUBSCRIBE.
 * Each runs inside the caller's write transaction; a failure returns before writing anything.
 */
import type { MailboxChange, MailboxChangeResult, SpecialUse } from '../store.ts';
import type { Db } from './schema.ts';
import type { MailboxTable } from './mailboxes.ts';
import { failed } from './message-changes.ts';
import type { Failed } from './message-changes.ts';
import { checkNewMailboxName, isInbox, isInferior, mailboxName, MAX_MAILBOX_NAME, specialUseOf } from './names.ts';

type Change<K extends MailboxChange['kind']> = Extract<MailboxChange, { kind: K }>;
type Changed = Extract<MailboxChangeResult, { kind: 'mailboxChanged' }>;

export class MailboxChanges {
  private readonly messageKeys;
  private readonly deleteMessages;
  private readonly deleteTombstones;
  private readonly rehomeAll;
  private readonly tombstoneAll;

  constructor(db: Db, private readonly mailboxes: MailboxTable) {
    this.messageKeys = db.prepare<[number], string>('SELECT message_key FROM messages WHERE mailbox_id = ? ORDER BY uid').pluck();
    this.deleteMessages = db.prepare<[number]>('DELETE FROM messages WHERE mailbox_id = ?');
    this.deleteTombstones = db.prepare<[number]>('DELETE FROM expunged WHERE mailbox_id = ?');
    this.rehomeAll = db.prepare<[number, number]>('UPDATE messages SET mailbox_id = ? WHERE mailbox_id = ?');
    this.tombstoneAll = db.prepare<[number, number]>(
      'INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) SELECT mailbox_id, uid, ? FROM messages WHERE mailbox_id = ?',
    );
  }

  /**
   * RFC 9051 §6.3.4 CREATE: a new, empty, unsubscribed mailbox; missing superiors are created
   * too. A special-use attribute we do not support fails with [USEATTR] (RFC 6154 §3).
   */
  create(change: Change<'createMailbox'>, userId: string): Changed | Failed {
    const checked = checkNewMailboxName(change.name);
    if ('error' in checked) return failed('CANNOT', checked.error);
    const name = checked.name;
    if (isInbox(name) || this.mailboxes.stateByName.get(userId, name)) return failed('ALREADYEXISTS', `mailbox ${name} already exists`);
    let specialUse: SpecialUse | null = null;
    if (change.specialUse !== null) {
      specialUse = specialUseOf(change.specialUse);
      if (specialUse === null) return failed('USEATTR', `unsupported special-use attribute ${change.specialUse}`);
    }
    this.mailboxes.createParents(userId, name, false);
    const id = this.mailboxes.create(userId, name, specialUse);
    return changed('created', id, name, null, []);
  }

  /**
   * RFC 9051 §6.3.6 RENAME: inferiors follow; superiors of the new name are created. Renaming
   * INBOX moves its messages to a new mailbox and leaves INBOX empty (its inferiors stay).
   * Subscriptions are names and are not renamed (RFC 9051 §6.3.7).
   */
  rename(change: Change<'renameMailbox'>, userId: string): Changed | Failed {
    const from = mailboxName(change.from);
    const source = this.mailboxes.stateByName.get(userId, from);
    if (!source) return failed('NONEXISTENT', `no mailbox named ${change.from}`);
    const checked = checkNewMailboxName(change.to);
    if ('error' in checked) return failed('CANNOT', checked.error);
    const to = checked.name;
    if (isInbox(to) || this.mailboxes.stateByName.get(userId, to)) return failed('ALREADYEXISTS', `mailbox ${to} already exists`);
    if (isInferior(to, from)) return failed('CANNOT', `cannot rename ${from} to a name under itself`);

    if (from === 'INBOX') {
      this.mailboxes.createParents(userId, to, false);
      const id = this.mailboxes.create(userId, to, null, { uidNext: source.uidnext, highestModseq: source.highestmodseq });
      const modseq = source.highestmodseq + 1;
      if (this.tombstoneAll.run(modseq, source.id).changes > 0) this.mailboxes.setModseq.run(modseq, source.id);
      this.rehomeAll.run(id, source.id);
      return changed('renamed', id, to, from, []);
    }

    const inferiors = this.mailboxes.names.all(userId).filter((n) => isInferior(n, from));
    const renames = inferiors.map((n) => ({ old: n, new: to + n.slice(from.length) }));
    for (const r of renames) {
      if (r.new.length > MAX_MAILBOX_NAME) return failed('CANNOT', `mailbox name ${r.new} would be too long`);
      if (this.mailboxes.stateByName.get(userId, r.new)) return failed('ALREADYEXISTS', `mailbox ${r.new} already exists`);
    }
    this.mailboxes.createParents(userId, to, false);
    this.mailboxes.rename.run(to, source.id);
    for (const r of renames) this.mailboxes.rename.run(r.new, this.mailboxes.stateByName.get(userId, r.old)!.id);
    return changed('renamed', source.id, to, from, []);
  }

  /** RFC 9051 §6.3.5 DELETE: the mailbox and its messages; INBOX cannot go; inferiors stay. */
  delete(change: Change<'deleteMailbox'>, userId: string): Changed | Failed {
    const name = mailboxName(change.name);
    if (name === 'INBOX') return failed('CANNOT', 'INBOX cannot be deleted');
    const box = this.mailboxes.stateByName.get(userId, name);
    if (!box) return failed('NONEXISTENT', `no mailbox named ${change.name}`);
    const keys = this.messageKeys.all(box.id);
    this.deleteMessages.run(box.id);
    this.deleteTombstones.run(box.id);
    this.mailboxes.remove.run(box.id);
    return changed('deleted', box.id, name, null, keys);
  }

  /** RFC 9051 §6.3.7/§6.3.8 SUBSCRIBE / UNSUBSCRIBE: by name, whether or not the mailbox exists. */
  subscribe(change: Change<'subscribe'>, userId: string): Changed | Failed {
    const name = mailboxName(change.name);
    if (name.length === 0) return failed('CANNOT', 'empty mailbox name');
    this.mailboxes.subscribe(userId, name, change.subscribed);
    const id = this.mailboxes.stateByName.get(userId, name)?.id ?? 0;
    return changed(change.subscribed ? 'subscribed' : 'unsubscribed', id, name, null, []);
  }
}

function changed(change: Changed['change'], mailboxId: number, name: string, oldName: string | null, removedKeys: string[]): Changed {
  return { kind: 'mailboxChanged', change, mailboxId, name, oldName, removedKeys };
}
