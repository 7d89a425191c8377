/**
 * COPY, UID COPY (RFC 9051 §6.4.7), MOVE and UID MOVE (RFC 6851), with COPYUID (RFC 4315 §3).
 * The change goes through the log (`copy`) and is answered once the store applied it.
 *
 * MOVE: `* OK [COPYUID …]` is written here, before the expunges (RFC 6851 §4.3); the
 * `* n EXPUNGE` / `* VANISHED` responses for the moved messages come from the session's
 * selected view, which finds the expunges in the store and announces them — as for another
 * session's expunge — before the tagged OK (the session runs its update after this handler,
 * expunges allowed, since MOVE is not FETCH, STORE or SEARCH: RFC 9051 §7.5.1).
 */
import type { ImapCommand } from '../command.ts';
import type { CommandResult, SelectedCommandHandler } from '../context.ts';
import { CommandFailedError } from '../../mailbox-service.ts';
import { recentUids } from '../recent.ts';
import { formatSequenceSet } from '../wire/encode.ts';

type CopyMoveCommand = Extract<ImapCommand, { name: 'COPY' | 'MOVE' }>;

export const handleCopyMove: SelectedCommandHandler<CopyMoveCommand> = async (ctx, cmd) => {
  const view = ctx.selected;
  const move = cmd.name === 'MOVE';
  // RFC 6851 §3.3: MOVE removes messages, so the mailbox must be read-write.
  if (move && view.readOnly) return { status: 'NO', text: 'Mailbox is read-only' };
  let uids: number[];
  try {
    uids = view.resolve(cmd.set, cmd.uid);
  } catch (err) {
    if (err instanceof RangeError) return { status: 'BAD', text: 'Invalid message sequence number' };
    throw err;
  }
  const target = ctx.decodeMailboxName(cmd.mailbox);
  const targetMailbox = await ctx.service.store.mailbox(ctx.user.id, target);
  // RFC 3501 §2.3.2: the copies are \Recent for the next session to select the target.
  if (targetMailbox) recentUids(ctx.service.store).firstRecent(targetMailbox);
  if (uids.length === 0) {
    // RFC 9051 §6.4.9: a UID set naming no message is not an error. The target must still exist.
    if (!targetMailbox) return { status: 'NO', code: 'TRYCREATE', text: 'No such mailbox' };
    return { status: 'OK', text: `${cmd.name} completed` };
  }
  let copied;
  try {
    const event = await ctx.service.change(ctx.user.id, { copy: { fromMailboxId: view.mailbox.id, uids, toMailbox: target, move } });
    copied = event.copied;
  } catch (err) {
    if (err instanceof CommandFailedError) return failure(err);
    throw err;
  }
  // RFC 4315 §3: COPYUID <uidvalidity> <source uids> <target uids>, both in the same (ascending) order.
  const code =
    copied && copied.sourceUids.length > 0
      ? `COPYUID ${copied.uidValidity} ${formatSequenceSet(copied.sourceUids)} ${formatSequenceSet(copied.targetUids)}`
      : undefined;
  if (!move) return { status: 'OK', code, text: 'COPY completed' };
  // RFC 6851 §4.3: with UIDPLUS, MOVE sends COPYUID in an untagged OK before the expunges.
  if (code) ctx.write(`* OK [${code}] Moved\r\n`);
  return { status: 'OK', text: 'MOVE completed' };
};

function failure(err: CommandFailedError): CommandResult {
  // RFC 9051 §6.4.7: [TRYCREATE] when the target does not exist; other RFC 5530 codes as given.
  return { status: 'NO', code: err.code || undefined, text: err.code === 'TRYCREATE' ? 'No such mailbox' : err.message };
}
