/**
 * Client changes to messages on Cassandra: flags (IMAP STORE), copy and move, expunge — the
 * rules of `../sqlite/message-changes.ts`. Each takes at most one new MODSEQ per folder it
 * changes (HIGHESTMODSEQ + 1, RFC 7162 §3.1) and puts its writes, with the changed folder rows,
 * into `out` for the caller's logged batch.
 */
import type { MailboxChange, MailboxChangeResult } from '../store.ts';
import { hasFlag, mailboxName, nextFlags, sameFlags } from '../sqlite/names.ts';
import type { Statement } from './cql.ts';
import type { BoxState, UserBoxes } from './mailboxes.ts';
import type { MessageRecord, MessageTable } from './messages.ts';
import { isSeen } from './messages.ts';

type Change<K extends MailboxChange['kind']> = Extract<MailboxChange, { kind: K }>;
type Result<K extends MailboxChangeResult['kind']> = Extract<MailboxChangeResult, { kind: K }>;
export type Failed = Result<'failed'>;

export function failed(code: Failed['code'], message: string): Failed {
  return { kind: 'failed', code, message };
}

/** Folder counts without `m`. */
export function uncount(box: BoxState, m: MessageRecord): void {
  box.messages -= 1;
  box.size -= m.size;
  if (!isSeen(m.flags)) box.unseen -= 1;
}

/** Folder counts with `m`. */
export function count(box: BoxState, m: MessageRecord): void {
  box.messages += 1;
  box.size += m.size;
  if (!isSeen(m.flags)) box.unseen += 1;
}

export class MessageChanges {
  constructor(private readonly messages: MessageTable) {}

  /** The user's folder with this id, or a NONEXISTENT failure (another user's id counts as unknown). */
  private own(boxes: UserBoxes, mailboxId: number): BoxState | Failed {
    return boxes.byId(mailboxId) ?? failed('NONEXISTENT', `no mailbox with id ${mailboxId}`);
  }

  private async records(boxes: UserBoxes, box: BoxState, uids: readonly number[]): Promise<MessageRecord[]> {
    return this.messages.records(await this.messages.factsOf(boxes.userId, box.id, uids));
  }

  /**
   * IMAP STORE (RFC 9051 §6.4.6). Only messages whose flag set changes get the new MODSEQ and
   * are reported; with UNCHANGEDSINCE a message modified after it is left alone and reported in
   * `conflicts` (RFC 7162 §3.1.3). Unknown UIDs are ignored.
   */
  async setFlags(change: Change<'setFlags'>, boxes: UserBoxes, out: Statement[]): Promise<Result<'flagsChanged'> | Failed> {
    const box = this.own(boxes, change.mailboxId);
    if ('kind' in box) return box;
    const modseq = box.highestModseq + 1;
    const changed: Result<'flagsChanged'>['changed'][number][] = [];
    const conflicts: number[] = [];
    for (const before of await this.records(boxes, box, change.uids)) {
      if (change.unchangedSince !== null && before.modseq > change.unchangedSince) {
        conflicts.push(before.uid);
        continue;
      }
      const flags = nextFlags(before.flags, change.mode, change.flags);
      if (sameFlags(before.flags, flags)) continue;
      const after = { ...before, flags, modseq };
      out.push(...this.messages.reflag(before, after));
      uncount(box, before);
      count(box, after);
      changed.push({ messageKey: before.messageKey, uid: before.uid, modseq, flags });
    }
    if (changed.length > 0) {
      box.highestModseq = modseq;
      boxes.touch(box);
    }
    return { kind: 'flagsChanged', mailboxId: box.id, mailbox: box.name, modseq: box.highestModseq, changed, conflicts };
  }

  /**
   * IMAP COPY (RFC 9051 §6.4.7) and MOVE (RFC 6851). The target must exist ([TRYCREATE]). New
   * UIDs follow the sources' UID order, from the target's UIDNEXT (COPYUID, RFC 4315 §3). A copy
   * is a new message keyed `copy:<commandId>:<source key>`; a move re-homes the message (same
   * key) and leaves a tombstone in the source.
   */
  async copy(change: Change<'copy'>, boxes: UserBoxes, out: Statement[]): Promise<Result<'copied'> | Failed> {
    const source = this.own(boxes, change.fromMailboxId);
    if ('kind' in source) return source;
    const target = boxes.get(mailboxName(change.toMailbox));
    if (!target) return failed('TRYCREATE', `no mailbox named ${change.toMailbox}`);
    const rows = await this.records(boxes, source, change.uids);
    const same = source.id === target.id;
    const result = {
      kind: 'copied' as const,
      fromMailboxId: source.id,
      toMailboxId: target.id,
      toMailbox: target.name,
      uidValidity: target.uidValidity,
      moved: change.move,
      sourceUids: rows.map((r) => r.uid),
      targetUids: [] as number[],
      copies: [] as { fromKey: string; toKey: string }[],
      modseq: target.highestModseq,
    };
    if (rows.length === 0) return result;

    const targetModseq = target.highestModseq + 1;
    const sourceModseq = same ? targetModseq : source.highestModseq + 1;
    let uid = target.uidNext;
    for (const row of rows) {
      const toKey = change.move ? row.messageKey : `copy:${change.commandId}:${row.messageKey}`;
      const placed: MessageRecord = { ...row, messageKey: toKey, mailboxId: target.id, uid, modseq: targetModseq };
      if (change.move) {
        out.push(...this.messages.remove(row, false), ...this.messages.insert(placed, true));
        out.push(this.messages.tombstone(boxes.userId, source.id, row.uid, sourceModseq));
        uncount(source, row);
      } else {
        out.push(...this.messages.insert(placed));
      }
      count(target, placed);
      result.copies.push({ fromKey: row.messageKey, toKey });
      result.targetUids.push(uid);
      uid += 1;
    }
    target.uidNext = uid;
    target.highestModseq = targetModseq;
    if (change.move && !same) {
      source.highestModseq = sourceModseq;
      boxes.touch(source);
    }
    boxes.touch(target);
    result.modseq = targetModseq;
    return result;
  }

  /**
   * IMAP EXPUNGE / UID EXPUNGE (RFC 9051 §6.4.3, RFC 4315 §2.1) remove only the named messages
   * that carry \Deleted (`onlyDeleted`); POP3 (RFC 1939 §6) removes what was DELEted. Each
   * removed UID leaves a tombstone at the new MODSEQ for VANISHED (RFC 7162 §3.2.10).
   */
  async expunge(change: Change<'expunge'>, boxes: UserBoxes, out: Statement[]): Promise<Result<'expunged'> | Failed> {
    const box = this.own(boxes, change.mailboxId);
    if ('kind' in box) return box;
    const rows = (await this.records(boxes, box, change.uids)).filter((r) => !change.onlyDeleted || hasFlag(r.flags, '\\Deleted'));
    const modseq = rows.length > 0 ? box.highestModseq + 1 : box.highestModseq;
    for (const row of rows) {
      out.push(...this.messages.remove(row, true), this.messages.tombstone(boxes.userId, box.id, row.uid, modseq));
      uncount(box, row);
    }
    if (rows.length > 0) {
      box.highestModseq = modseq;
      boxes.touch(box);
    }
    return { kind: 'expunged', mailboxId: box.id, mailbox: box.name, uids: rows.map((r) => r.uid), messageKeys: rows.map((r) => r.messageKey), modseq };
  }
}
