/**
 * STORE and UID STORE (RFC 9051 §6.4.6, §6.4.9), with UNCHANGEDSINCE (RFC 7162 §3.1.3). The
 * change goes through the log (`setFlags`) and is answered once the store applied it; the
 * untagged FETCH responses report the flags it left, and the session is told what was
 * reported so its next update does not repeat them.
 */
import type { ImapCommand } from '../command.ts';
import type { SelectedCommandHandler } from '../context.ts';
import { shownFlags } from '../recent.ts';
import { formatSequenceSet } from '../wire/encode.ts';

type StoreCommand = Extract<ImapCommand, { name: 'STORE' }>;

interface Reported {
  readonly uid: number;
  readonly flags: readonly string[];
  readonly modseq: number;
}

export const handleStore: SelectedCommandHandler<StoreCommand> = async (ctx, cmd) => {
  const view = ctx.selected;
  // RFC 9051 §6.4.6: STORE needs read-write access.
  if (view.readOnly) return { status: 'NO', text: 'Mailbox is read-only' };
  // RFC 9051 §2.3.2: \Recent is session state; IMAP4rev2 has no \Recent at all.
  if (cmd.flags.some((f) => f.toLowerCase() === '\\recent')) return { status: 'BAD', text: '\\Recent cannot be stored' };
  let uids: number[];
  try {
    uids = view.resolve(cmd.set, cmd.uid);
  } catch (err) {
    if (err instanceof RangeError) return { status: 'BAD', text: 'Invalid message sequence number' };
    throw err;
  }
  // RFC 7162 §3.1: UNCHANGEDSINCE enables CONDSTORE.
  if (cmd.unchangedSince !== null) ctx.enabled.condstore = true;
  if (uids.length === 0) return { status: 'OK', text: 'STORE completed' };

  const event = await ctx.service.change(ctx.user.id, {
    setFlags: { mailboxId: view.mailbox.id, uids, mode: cmd.mode, flags: [...cmd.flags], unchangedSince: cmd.unchangedSince },
  });
  const result = event.flagsChanged;
  const changed = new Map<number, Reported>((result?.changed ?? []).map((c) => [c.uid, c]));
  const conflicts = new Set(result?.conflicts ?? []);

  // RFC 9051 §6.4.6: without .SILENT, FETCH FLAGS for every message of the set (unchanged ones too).
  // RFC 7162 §3.1.3: with CONDSTORE on, a changed message's FETCH carries MODSEQ even with .SILENT.
  let report: Reported[];
  if (!cmd.silent) {
    const unchanged = uids.filter((uid) => !changed.has(uid) && !conflicts.has(uid));
    const current = unchanged.length > 0 ? await ctx.service.store.messageFacts(view.mailbox.id, unchanged) : [];
    report = [...changed.values(), ...current].sort((a, b) => a.uid - b.uid);
  } else {
    report = ctx.enabled.condstore ? [...changed.values()] : [];
  }
  let out = '';
  for (const m of report) {
    const seq = view.seqOf(m.uid);
    if (seq === undefined) continue;
    const items: string[] = [];
    if (cmd.uid) items.push(`UID ${m.uid}`);
    if (!cmd.silent) {
      // RFC 9051 §7.3.5: a keyword new to this session goes into FLAGS before a FETCH carries it.
      out += view.announceFlags(m.flags).join('');
      items.push(`FLAGS (${shownFlags(m.flags, !ctx.enabled.imap4rev2 && view.recent.has(m.uid)).join(' ')})`);
    }
    if (ctx.enabled.condstore) items.push(`MODSEQ (${m.modseq})`);
    out += `* ${seq} FETCH (${items.join(' ')})\r\n`;
    if (out.length > 65_536) {
      ctx.write(out);
      out = '';
    }
  }
  if (out !== '') ctx.write(out);
  // What this session now knows (or was told by its own command): no repeat in its next update.
  for (const m of changed.values()) view.noteReported(m.uid, m.modseq);
  if (result && result.changed.length > 0) view.noteOwnChange(result.modseq);

  if (conflicts.size > 0) {
    // RFC 7162 §3.1.3: MODIFIED lists the messages that failed the UNCHANGEDSINCE test.
    const numbers = cmd.uid ? [...conflicts] : [...conflicts].map((uid) => view.seqOf(uid)).filter((n): n is number => n !== undefined);
    return { status: 'OK', code: `MODIFIED ${formatSequenceSet(numbers)}`, text: 'Conditional STORE failed for some messages' };
  }
  return { status: 'OK', text: 'STORE completed' };
};
