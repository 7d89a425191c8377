/**
 * EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1): removes the messages carrying
 * \Deleted (UID EXPUNGE: only those in its set) through the log. The `* n EXPUNGE` (or
 * `* VANISHED`, RFC 7162 §3.2.10) responses come from the session's selected view, which
 * finds the expunges in the store and announces them before the tagged OK, highest sequence
 * number first — the same path as another session's expunge, so nothing is announced twice.
 */
import type { ImapCommand } from '../command.ts';
import type { SelectedCommandHandler } from '../context.ts';

type ExpungeCommand = Extract<ImapCommand, { name: 'EXPUNGE' }>;

export const handleExpunge: SelectedCommandHandler<ExpungeCommand> = async (ctx, cmd) => {
  const view = ctx.selected;
  if (view.readOnly) return { status: 'NO', text: 'Mailbox is read-only' };
  let uids: number[];
  try {
    uids = cmd.uidSet ? view.resolve(cmd.uidSet, true) : [...view.uids];
  } catch (err) {
    if (err instanceof RangeError) return { status: 'BAD', text: 'Invalid UID set' };
    throw err;
  }
  let modseq = view.mailbox.highestModseq;
  if (uids.length > 0) {
    const event = await ctx.service.change(ctx.user.id, { expunge: { mailboxId: view.mailbox.id, uids, onlyDeleted: true } });
    modseq = event.expunged?.modseq ?? modseq;
  }
  // RFC 7162 §3.2.10 / §3.1.8: with CONDSTORE on, the tagged OK tells the new HIGHESTMODSEQ.
  if (ctx.enabled.condstore) return { status: 'OK', code: `HIGHESTMODSEQ ${modseq}`, text: 'EXPUNGE completed' };
  return { status: 'OK', text: 'EXPUNGE completed' };
};
