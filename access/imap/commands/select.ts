/**
 * SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3) with CONDSTORE (RFC 7162 §3.1.8) and QRESYNC
 * (RFC 7162 §3.2.5), CLOSE (§6.4.1), UNSELECT (§6.4.2, RFC 3691) and CHECK (RFC 3501 §6.4.1).
 */
import type { ImapCommand, SequenceSet } from '../command.ts';
import type { CommandResult } from '../context.ts';
import { ImapError } from '../imap-error.ts';
import { recentUids } from '../recent.ts';
import { summaryCacheOf } from '../search/summary-cache.ts';
import { SelectedMailbox } from '../selected-view.ts';
import type { SessionApi } from '../session-api.ts';
import { formatSequenceSet, ResponseBuilder } from '../wire/encode.ts';

type SelectCommand = Extract<ImapCommand, { name: 'SELECT' | 'EXAMINE' }>;

function inSet(uid: number, set: SequenceSet): boolean {
  if (set.kind !== 'set') return true;
  return set.ranges.some((r) => {
    const a = r.start === '*' ? Infinity : r.start;
    const b = r.end === '*' ? Infinity : r.end;
    return uid >= Math.min(a, b) && uid <= Math.max(a, b);
  });
}

export async function handleSelect(s: SessionApi, command: SelectCommand): Promise<CommandResult> {
  const name = s.decodeMailboxName(command.mailbox);
  if (s.selected) {
    // RFC 9051 §6.3.2 / RFC 7162 §3.2.11: the previous mailbox is closed (without expunging).
    s.select(null);
    s.write('* OK [CLOSED] Previous mailbox is now closed\r\n');
  }
  // RFC 7162 §3.2.5: QRESYNC parameters only once the client enabled QRESYNC.
  if (command.qresync && !s.enabled.qresync) throw new ImapError('BAD', undefined, 'QRESYNC is not enabled');
  if (command.condstore) s.enabled.condstore = true;
  const store = s.service.store;
  const mailbox = await store.mailbox(s.user.id, name);
  if (!mailbox) throw new ImapError('NO', 'NONEXISTENT', 'No such mailbox');
  // In UID order: the cache's map keeps the store's order, and new UIDs only ever come last.
  const summaries = [...(await summaryCacheOf(s.service).summaries(store, s.user.id, mailbox)).values()];
  // RFC 3501 §2.3.2: SELECT claims the messages no session has seen as \Recent; EXAMINE only shows them.
  const view = new SelectedMailbox(mailbox, command.name === 'EXAMINE', summaries, recentUids(store));

  const lines: (string | Buffer)[] = [...view.flagsLines(), `* ${view.uids.length} EXISTS\r\n`];
  if (!s.enabled.imap4rev2) {
    lines.push(`* ${view.recent.size} RECENT\r\n`); // RFC 3501 §7.3.2; gone in IMAP4rev2
    const firstUnseen = summaries.findIndex((m) => !m.flags.includes('\\Seen'));
    if (firstUnseen >= 0) lines.push(`* OK [UNSEEN ${firstUnseen + 1}] First unseen\r\n`);
  }
  lines.push(
    `* OK [UIDVALIDITY ${mailbox.uidValidity}] UIDs valid\r\n`,
    `* OK [UIDNEXT ${view.uidNext}] Predicted next UID\r\n`,
    `* OK [HIGHESTMODSEQ ${mailbox.highestModseq}] Highest\r\n`, // RFC 7162 §3.1.2.1
  );
  if (s.enabled.imap4rev2) {
    // RFC 9051 §6.3.2: a LIST response with the mailbox's name and attributes.
    const attributes = mailbox.specialUse && mailbox.specialUse !== '\\Inbox' ? mailbox.specialUse : '';
    lines.push(new ResponseBuilder({ utf8: true }).text(`* LIST (${attributes}) "/" `).value(s.encodeMailboxName(mailbox.name)).text('\r\n').toBuffer());
  }
  const q = command.qresync;
  if (q && q.uidValidity === mailbox.uidValidity) {
    // RFC 7162 §3.2.5.2: what the client missed since its MODSEQ.
    const changes = await store.changes(mailbox.id, q.modseq);
    const vanished = changes.expunged.filter((uid) => !q.knownUids || inSet(uid, q.knownUids));
    if (vanished.length > 0) lines.push(`* VANISHED (EARLIER) ${formatSequenceSet(vanished)}\r\n`);
    for (const m of changes.changed) {
      const seq = view.seqOf(m.uid);
      if (seq === undefined) continue;
      lines.push(`* ${seq} FETCH (UID ${m.uid} FLAGS (${view.shownFlags(m.uid, m.flags, s.enabled).join(' ')}) MODSEQ (${m.modseq}))\r\n`);
    }
  }
  s.write(...lines);
  s.select(view);
  return { status: 'OK', code: view.readOnly ? 'READ-ONLY' : 'READ-WRITE', text: `${command.name} completed` };
}

// RFC 9051 §6.4.1: CLOSE expunges \Deleted messages silently when the mailbox is read-write.
export async function handleClose(s: SessionApi): Promise<CommandResult> {
  const view = s.selected;
  s.select(null);
  if (view && !view.readOnly && view.uids.length > 0) {
    await s.service.change(s.user.id, { expunge: { mailboxId: view.mailbox.id, uids: [...view.uids], onlyDeleted: true } });
  }
  return { status: 'OK', text: 'CLOSE completed' };
}

// RFC 3691, RFC 9051 §6.4.2: leave the mailbox without expunging.
export async function handleUnselect(s: SessionApi): Promise<CommandResult> {
  s.select(null);
  return { status: 'OK', text: 'UNSELECT completed' };
}
