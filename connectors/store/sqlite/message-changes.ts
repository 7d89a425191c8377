/**
 * Client changes to messages: flags (IMAP STORE), copy and move, expunge. Each runs inside the
 * caller's write transaction and takes at most one new MODSEQ per mailbox it changes
 * (HIGHESTMODSEQ + 1, RFC 7162 §3.1), so MODSEQs follow the log order like UIDs.
 */
import type { MailboxChange, MailboxChangeResult } from '../store.ts';
import type { Db } from './schema.ts';
import type { MailboxState, MailboxTable } from './mailboxes.ts';
import { hasFlag, mailboxName, nextFlags, sameFlags } from './names.ts';

type Change<K extends MailboxChange['kind']> = Extract<MailboxChange, { kind: K }>;
type Result<K extends MailboxChangeResult['kind']> = Extract<MailboxChangeResult, { kind: K }>;
export type Failed = Result<'failed'>;

interface TargetRow {
  id: number;
  message_key: string;
  uid: number;
  modseq: number;
  flags: string;
}

export function failed(code: Failed['code'], message: string): Failed {
  return { kind: 'failed', code, message };
}

export class MessageChanges {
  private readonly select;
  private readonly updateFlags;
  private readonly copyRow;
  private readonly moveRow;
  private readonly deleteRow;
  private readonly tombstone;

  constructor(db: Db, private readonly mailboxes: MailboxTable) {
    this.select = db.prepare<[number, string], TargetRow>(
      `SELECT id, message_key, uid, modseq, flags FROM messages
       WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
    );
    this.updateFlags = db.prepare<[string, number, number, number]>('UPDATE messages SET flags = ?, seen = ?, modseq = ? WHERE id = ?');
    this.copyRow = db.prepare<[string, number, number, number, number]>(
      `INSERT INTO messages (message_key, user_id, mailbox_id, uid, modseq, thread_id, received_at, size, flags, seen,
         message_id, in_reply_to, refs, subject, from_json, to_json, cc_json, date, skeleton_blob, parts)
       SELECT ?, user_id, ?, ?, ?, thread_id, received_at, size, flags, seen,
         message_id, in_reply_to, refs, subject, from_json, to_json, cc_json, date, skeleton_blob, parts
       FROM messages WHERE id = ?`,
    );
    this.moveRow = db.prepare<[number, number, number, number]>('UPDATE messages SET mailbox_id = ?, uid = ?, modseq = ? WHERE id = ?');
    this.deleteRow = db.prepare<[number]>('DELETE FROM messages WHERE id = ?');
    this.tombstone = db.prepare<[number, number, number]>('INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)');
  }

  /** The user's mailbox with this id, or a NONEXISTENT failure (another user's id counts as unknown). */
  ownMailbox(userId: string, mailboxId: number): MailboxState | Failed {
    const box = this.mailboxes.stateById.get(mailboxId);
    return box && box.user_id === userId ? box : failed('NONEXISTENT', `no mailbox with id ${mailboxId}`);
  }

  /**
   * IMAP STORE (RFC 9051 §6.4.6). Only messages whose flag set changes get the new MODSEQ and
   * are reported; with UNCHANGEDSINCE a message modified after it is left alone and reported in
   * `conflicts` (RFC 7162 §3.1.3). Unknown UIDs are ignored.
   */
  setFlags(change: Change<'setFlags'>, userId: string): Result<'flagsChanged'> | Failed {
    const box = this.ownMailbox(userId, change.mailboxId);
    if ('kind' in box) return box;
    const modseq = box.highestmodseq + 1;
    const changed: Result<'flagsChanged'>['changed'][number][] = [];
    const conflicts: number[] = [];
    for (const row of this.select.all(box.id, JSON.stringify(change.uids))) {
      if (change.unchangedSince !== null && row.modseq > change.unchangedSince) {
        conflicts.push(row.uid);
        continue;
      }
      const current = JSON.parse(row.flags) as string[];
      const flags = nextFlags(current, change.mode, change.flags);
      if (sameFlags(current, flags)) continue;
      this.updateFlags.run(JSON.stringify(flags), hasFlag(flags, '\\Seen') ? 1 : 0, modseq, row.id);
      changed.push({ messageKey: row.message_key, uid: row.uid, modseq, flags });
    }
    if (changed.length > 0) this.mailboxes.setModseq.run(modseq, box.id);
    return {
      kind: 'flagsChanged',
      mailboxId: box.id,
      mailbox: box.name,
      modseq: changed.length > 0 ? modseq : box.highestmodseq,
      changed,
      conflicts,
    };
  }

  /**
   * IMAP COPY (RFC 9051 §6.4.7) and MOVE (RFC 6851). The target must exist ([TRYCREATE]). New
   * UIDs follow the sources' UID order, from the target's UIDNEXT, for COPYUID (RFC 4315 §3).
   * A copy is a new message keyed `copy:<commandId>:<source key>`; a move re-homes the message
   * (same key) and leaves a tombstone in the source.
   */
  copy(change: Change<'copy'>, userId: string): Result<'copied'> | Failed {
    const source = this.ownMailbox(userId, change.fromMailboxId);
    if ('kind' in source) return source;
    const target = this.mailboxes.stateByName.get(userId, mailboxName(change.toMailbox));
    if (!target) return failed('TRYCREATE', `no mailbox named ${change.toMailbox}`);
    const rows = this.select.all(source.id, JSON.stringify(change.uids));
    const same = source.id === target.id;
    const result = {
      kind: 'copied' as const,
      fromMailboxId: source.id,
      toMailboxId: target.id,
      toMailbox: target.name,
      uidValidity: target.uidvalidity,
      moved: change.move,
      sourceUids: rows.map((r) => r.uid),
      targetUids: [] as number[],
      copies: [] as { fromKey: string; toKey: string }[],
      modseq: target.highestmodseq,
    };
    if (rows.length === 0) return result;

    const targetModseq = target.highestmodseq + 1;
    const sourceModseq = same ? targetModseq : source.highestmodseq + 1;
    let uid = target.uidnext;
    for (const row of rows) {
      if (change.move) {
        this.moveRow.run(target.id, uid, targetModseq, row.id);
        this.tombstone.run(source.id, row.uid, sourceModseq);
        result.copies.push({ fromKey: row.message_key, toKey: row.message_key });
      } else {
        const key = `copy:${change.commandId}:${row.message_key}`;
        this.copyRow.run(key, target.id, uid, targetModseq, row.id);
        result.copies.push({ fromKey: row.message_key, toKey: key });
      }
      result.targetUids.push(uid);
      uid += 1;
    }
    this.mailboxes.advance.run(uid, targetModseq, target.id);
    if (change.move && !same) this.mailboxes.setModseq.run(sourceModseq, source.id);
    result.modseq = targetModseq;
    return result;
  }

  /**
   * IMAP EXPUNGE / UID EXPUNGE (RFC 9051 §6.4.3, RFC 4315 §2.1) remove only the named messages
   * that carry \Deleted (`onlyDeleted`); POP3 (RFC 1939 §6) removes what was DELEted. Each
   * removed UID leaves a tombstone at the new MODSEQ for VANISHED (RFC 7162 §3.2.10).
   */
  expunge(change: Change<'expunge'>, userId: string): Result<'expunged'> | Failed {
    const box = this.ownMailbox(userId, change.mailboxId);
    if ('kind' in box) return box;
    const rows = this.select
      .all(box.id, JSON.stringify(change.uids))
      .filter((r) => !change.onlyDeleted || hasFlag(JSON.parse(r.flags) as string[], '\\Deleted'));
    const modseq = rows.length > 0 ? box.highestmodseq + 1 : box.highestmodseq;
    for (const row of rows) {
      this.deleteRow.run(row.id);
      this.tombstone.run(box.id, row.uid, modseq);
    }
    if (rows.length > 0) this.mailboxes.setModseq.run(modseq, box.id);
    return {
      kind: 'expunged',
      mailboxId: box.id,
      mailbox: box.name,
      uids: rows.map((r) => r.uid),
      messageKeys: rows.map((r) => r.message_key),
      modseq,
    };
  }
}
