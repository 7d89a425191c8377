/**
 * The \Recent flag of IMAP4rev1 (RFC 3501 §2.3.2): a message is recent in exactly one session,
 * the first that has its mailbox selected read-write when it arrives (or selects it after).
 * IMAP4rev2 dropped \Recent (RFC 9051 Appendix E); Sluice keeps it for rev1 clients only.
 *
 * It is session state, never stored: this server process keeps, per mailbox, the first UID no
 * session has claimed yet ("first recent"), shared by all its sessions. It starts at the
 * mailbox's UIDNEXT when the process first touches the mailbox (SELECT, EXAMINE, STATUS,
 * CREATE, a COPY/MOVE target), so \Recent does NOT survive a restart: messages that arrived
 * before the process first touched a mailbox are never recent. A SELECT claims every UID from
 * there on and moves it past UIDNEXT; EXAMINE and STATUS only count.
 */
import type { Mailbox, MailStore } from '../../connectors/store/store.ts';

type MailboxKey = Pick<Mailbox, 'id' | 'uidValidity' | 'uidNext'>;

interface Mark {
  /** A deleted and re-created mailbox may get the same id: its UIDVALIDITY tells them apart. */
  readonly uidValidity: number;
  first: number;
}

export class RecentUids {
  private readonly marks = new Map<number, Mark>();

  /** The first UID no session has claimed (UIDNEXT the first time the mailbox is touched). */
  firstRecent(mailbox: MailboxKey): number {
    return this.mark(mailbox).first;
  }

  /** The members of `uids` no session has claimed, without claiming them (EXAMINE, STATUS). */
  peek(mailbox: MailboxKey, uids: readonly number[]): number[] {
    const first = this.firstRecent(mailbox);
    return uids.filter((uid) => uid >= first);
  }

  /**
   * Claims for one read-write session the members of `uids` no session has claimed, and moves
   * "first recent" past them and past `uidNext` (at least). Returns the claimed UIDs.
   */
  claim(mailbox: MailboxKey, uids: readonly number[], uidNext = 0): number[] {
    const mark = this.mark(mailbox);
    const claimed = uids.filter((uid) => uid >= mark.first);
    let last = 0;
    for (const uid of claimed) if (uid > last) last = uid;
    mark.first = Math.max(mark.first, uidNext, last + 1);
    return claimed;
  }

  private mark(mailbox: MailboxKey): Mark {
    let mark = this.marks.get(mailbox.id);
    if (!mark || mark.uidValidity !== mailbox.uidValidity) {
      mark = { uidValidity: mailbox.uidValidity, first: mailbox.uidNext };
      this.marks.set(mailbox.id, mark);
    }
    return mark;
  }
}

const byStore = new WeakMap<MailStore, RecentUids>();

/** The \Recent state shared by all sessions of this process over `store`. */
export function recentUids(store: MailStore): RecentUids {
  let recent = byStore.get(store);
  if (!recent) {
    recent = new RecentUids();
    byStore.set(store, recent);
  }
  return recent;
}

/** Flags as a FETCH response shows them: `\Recent` first for a recent message (IMAP4rev1 only). */
export function shownFlags(flags: readonly string[], recent: boolean): string[] {
  const stored = flags.filter((f) => f !== '\\Recent');
  return recent ? ['\\Recent', ...stored] : stored;
}
