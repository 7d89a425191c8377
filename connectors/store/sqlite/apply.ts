/**
 * `MailStore.apply`: client changes in order, idempotent by command id. The first result of
 * each id is kept in `applied_commands` (failures too), and applying the id again returns it
 * without touching anything — so a replay of the log gives the same events. Runs inside the
 * caller's write transaction.
 */
import type { MailboxChange, MailboxChangeResult } from '../store.ts';
import type { Db } from './schema.ts';
import type { MailboxTable } from './mailboxes.ts';
import { MailboxChanges } from './mailbox-changes.ts';
import { MessageChanges } from './message-changes.ts';

export class ChangeApplier {
  private readonly applied;
  private readonly record;
  private readonly messages: MessageChanges;
  private readonly folders: MailboxChanges;
  private readonly userExists;

  constructor(db: Db, mailboxes: MailboxTable) {
    this.applied = db.prepare<[string], string>('SELECT result FROM applied_commands WHERE command_id = ?').pluck();
    this.record = db.prepare<[string, string, number]>('INSERT INTO applied_commands (command_id, result, applied_at) VALUES (?, ?, ?)');
    this.userExists = db.prepare<[string], number>('SELECT 1 FROM users WHERE id = ?').pluck();
    this.messages = new MessageChanges(db, mailboxes);
    this.folders = new MailboxChanges(db, mailboxes);
  }

  apply(change: MailboxChange): MailboxChangeResult {
    const stored = this.applied.get(change.commandId);
    if (stored !== undefined) return JSON.parse(stored) as MailboxChangeResult;
    const result = this.run(change);
    this.record.run(change.commandId, JSON.stringify(result), Date.now());
    return result;
  }

  private run(change: MailboxChange): MailboxChangeResult {
    const userId = change.userId.toLowerCase();
    if (this.userExists.get(userId) === undefined) return { kind: 'failed', code: 'NONEXISTENT', message: `no user ${userId}` };
    switch (change.kind) {
      case 'setFlags':
        return this.messages.setFlags(change, userId);
      case 'copy':
        return this.messages.copy(change, userId);
      case 'expunge':
        return this.messages.expunge(change, userId);
      case 'createMailbox':
        return this.folders.create(change, userId);
      case 'renameMailbox':
        return this.folders.rename(change, userId);
      case 'deleteMailbox':
        return this.folders.delete(change, userId);
      case 'subscribe':
        return this.folders.subscribe(change, userId);
    }
  }
}
