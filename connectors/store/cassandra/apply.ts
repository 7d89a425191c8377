/**
 * `MailStore.apply` on Cassandra: client changes in order, idempotent by command id. Each change
 * is one logged batch holding its writes, its folders' rows and its result in `applied_commands`
 * (failures too), so a replayed command id returns the first result and touches nothing. The
 * next change of the same call reads what the previous one wrote (LOCAL_QUORUM both ways).
 */
import type { MailboxChange, MailboxChangeResult } from '../store.ts';
import type { Cql, Statement } from './cql.ts';
import type { MailboxTable } from './mailboxes.ts';
import { UserBoxes } from './mailboxes.ts';
import type { MessageTable } from './messages.ts';
import { MailboxChanges } from './mailbox-changes.ts';
import { MessageChanges } from './message-changes.ts';

export class ChangeApplier {
  private readonly messageChanges: MessageChanges;
  private readonly folderChanges: MailboxChanges;

  constructor(
    private readonly cql: Cql,
    private readonly table: MailboxTable,
    messages: MessageTable,
    private readonly userExists: (userId: string) => Promise<boolean>,
  ) {
    this.messageChanges = new MessageChanges(messages);
    this.folderChanges = new MailboxChanges(table, messages);
  }

  async apply(changes: readonly MailboxChange[]): Promise<MailboxChangeResult[]> {
    const users = new Map<string, UserBoxes>();
    const results: MailboxChangeResult[] = [];
    for (const change of changes) {
      const stored = await this.cql.row('SELECT result FROM applied_commands WHERE command_id = ?', [change.commandId]);
      if (stored) {
        results.push(JSON.parse(String(stored.get('result'))) as MailboxChangeResult);
        continue;
      }
      const out: Statement[] = [];
      const result = await this.run(change, users, out);
      out.push({
        query: 'INSERT INTO applied_commands (command_id, result, applied_at) VALUES (?, ?, ?)',
        params: [change.commandId, JSON.stringify(result), Date.now()],
      });
      await this.cql.batch(out);
      results.push(result);
    }
    return results;
  }

  private async run(change: MailboxChange, users: Map<string, UserBoxes>, out: Statement[]): Promise<MailboxChangeResult> {
    const userId = change.userId.toLowerCase();
    let boxes = users.get(userId);
    if (!boxes) {
      if (!(await this.userExists(userId))) return { kind: 'failed', code: 'NONEXISTENT', message: `no user ${userId}` };
      boxes = await UserBoxes.load(this.table, userId);
      users.set(userId, boxes);
    }
    const result = await this.dispatch(change, boxes, out);
    out.push(...boxes.drain());
    return result;
  }

  private dispatch(change: MailboxChange, boxes: UserBoxes, out: Statement[]): Promise<MailboxChangeResult> | MailboxChangeResult {
    switch (change.kind) {
      case 'setFlags':
        return this.messageChanges.setFlags(change, boxes, out);
      case 'copy':
        return this.messageChanges.copy(change, boxes, out);
      case 'expunge':
        return this.messageChanges.expunge(change, boxes, out);
      case 'createMailbox':
        return this.folderChanges.create(change, boxes, out);
      case 'renameMailbox':
        return this.folderChanges.rename(change, boxes, out);
      case 'deleteMailbox':
        return this.folderChanges.delete(change, boxes, out);
      case 'subscribe':
        return this.folderChanges.subscribe(change, boxes, out);
    }
  }
}
