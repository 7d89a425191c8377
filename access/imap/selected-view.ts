/**
 * The selected mailbox as one session knows it (RFC 9051 §7.5.1): the sequence-number ↔ UID
 * map changes only when this session tells its client, by untagged EXPUNGE (or VANISHED under
 * QRESYNC, RFC 7162 §3.2.10) and EXISTS. `update()` asks the store what changed since the
 * highest MODSEQ this session has seen and turns it into those responses, plus FETCH FLAGS for
 * other sessions' flag changes (with MODSEQ once CONDSTORE is on, RFC 7162 §3.1.3). It also
 * keeps this session's \Recent messages (`recent.ts`): claimed at SELECT and as new messages
 * appear when read-write, only counted when read-only (EXAMINE); `* n RECENT` follows EXISTS
 * for IMAP4rev1 clients (RFC 3501 §7.3.2).
 */
import type { Mailbox, MailStore, MessageSummary } from '../../connectors/store/store.ts';
import type { SequenceSet } from './command.ts';
import type { EnabledExtensions, SelectedView } from './context.ts';
import { shownFlags, type RecentUids } from './recent.ts';
import { formatSequenceSet } from './wire/encode.ts';

export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

export class SelectedMailbox implements SelectedView {
  mailbox: Mailbox;
  readonly readOnly: boolean;
  uids: number[];
  savedSearch: number[] = [];
  /** The highest MODSEQ whose changes this session has reported (or had no need to). */
  modseq: number;
  /** Flags and keywords the client was told about in FLAGS. */
  readonly knownFlags: Set<string>;
  /** This session's \Recent UIDs (RFC 3501 §2.3.2). */
  readonly recent = new Set<number>();
  private readonly recentState: RecentUids | null;
  private readonly reported = new Map<number, number>();
  /** Expunged UIDs not yet announced (no EXPUNGE during FETCH, STORE, SEARCH: RFC 9051 §7.5.1). */
  private readonly pendingExpunge = new Set<number>();

  /**
   * `recentState`: the process's \Recent state; a read-write view claims the unclaimed messages
   * (SELECT), a read-only one only shows them (EXAMINE). Without it nothing is recent.
   */
  constructor(mailbox: Mailbox, readOnly: boolean, summaries: readonly MessageSummary[], recentState?: RecentUids) {
    this.mailbox = mailbox;
    this.readOnly = readOnly;
    this.uids = summaries.map((m) => m.uid);
    this.recentState = recentState ?? null;
    if (recentState) {
      const recent = readOnly ? recentState.peek(mailbox, this.uids) : recentState.claim(mailbox, this.uids, mailbox.uidNext);
      for (const uid of recent) this.recent.add(uid);
    }
    this.modseq = mailbox.highestModseq;
    // The mailbox row is read before its messages: a message stored between the two reads is
    // listed here with a MODSEQ above the row's. It is not a change for this session to report.
    for (const m of summaries) if (m.modseq > this.modseq) this.reported.set(m.uid, m.modseq);
    this.knownFlags = new Set(SYSTEM_FLAGS);
    for (const m of summaries) for (const flag of m.flags) this.knownFlags.add(flag);
    this.knownFlags.delete('\\Recent');
  }

  /** Next UID as the client should see it: never below one past the highest UID it knows. */
  get uidNext(): number {
    return Math.max(this.mailbox.uidNext, (this.uids[this.uids.length - 1] ?? 0) + 1);
  }

  seqOf(uid: number): number | undefined {
    const i = lowerBound(this.uids, uid);
    return i < this.uids.length && this.uids[i] === uid ? i + 1 : undefined;
  }

  resolve(set: SequenceSet, byUid: boolean): number[] {
    if (set.kind === 'saved') return this.savedSearch.filter((uid) => this.seqOf(uid) !== undefined);
    const parts: number[][] = [];
    for (const range of set.ranges) {
      if (byUid) {
        // RFC 9051 §6.4.9: `*` is the highest UID; n:* includes it even when n is larger.
        const max = this.uids[this.uids.length - 1] ?? 0;
        if (max === 0) continue;
        const a = range.start === '*' ? max : range.start;
        const b = range.end === '*' ? max : range.end;
        const lo = Math.min(a, b);
        const hi = Math.max(a, b);
        parts.push(this.uids.slice(lowerBound(this.uids, lo), lowerBound(this.uids, hi + 1)));
      } else {
        const n = this.uids.length;
        const a = range.start === '*' ? n : range.start;
        const b = range.end === '*' ? n : range.end;
        if (a < 1 || b < 1 || a > n || b > n) throw new RangeError('Invalid message sequence number');
        parts.push(this.uids.slice(Math.min(a, b) - 1, Math.max(a, b)));
      }
    }
    if (parts.length === 1) return parts[0];
    return [...new Set(parts.flat())].sort((x, y) => x - y);
  }

  announceFlags(flags: readonly string[]): string[] {
    let fresh = false;
    for (const flag of flags) {
      if (flag !== '\\Recent' && !this.knownFlags.has(flag)) {
        this.knownFlags.add(flag);
        fresh = true;
      }
    }
    return fresh ? this.flagsLines() : [];
  }

  /** Flags of a message as this session shows them: with \Recent for its recent messages (IMAP4rev1 only). */
  shownFlags(uid: number, flags: readonly string[], enabled: EnabledExtensions): string[] {
    return shownFlags(flags, !enabled.imap4rev2 && this.recent.has(uid));
  }

  noteReported(uid: number, modseq: number): void {
    this.reported.set(uid, Math.max(modseq, this.reported.get(uid) ?? 0));
  }

  noteOwnChange(modseq: number): void {
    // The next update then finds nothing above it with one lookup instead of reading the change back.
    if (modseq === this.modseq + 1) this.modseq = modseq;
  }

  /**
   * Untagged responses for what changed since `modseq`: EXPUNGE/VANISHED (only when
   * `allowExpunge`), EXISTS, FLAGS for new keywords, and FETCH for flag changes.
   */
  async update(store: MailStore, enabled: EnabledExtensions, allowExpunge: boolean): Promise<string[]> {
    const lines: string[] = [];
    const changes = await store.changes(this.mailbox.id, this.modseq);
    if (changes.highestModseq <= this.modseq && changes.changed.length === 0 && changes.expunged.length === 0) {
      if (allowExpunge && this.pendingExpunge.size > 0) this.announceExpunges(enabled, lines);
      return lines;
    }
    for (const uid of changes.expunged) if (this.seqOf(uid) !== undefined) this.pendingExpunge.add(uid);
    if (allowExpunge) this.announceExpunges(enabled, lines);

    const last = this.uids[this.uids.length - 1] ?? 0;
    const fresh: number[] = [];
    const flagChanges: typeof changes.changed = [];
    const flags = new Set<string>();
    for (const m of changes.changed) {
      for (const flag of m.flags) flags.add(flag);
      if (m.uid > last) fresh.push(m.uid);
      else if (!this.pendingExpunge.has(m.uid) && (this.reported.get(m.uid) ?? 0) < m.modseq) flagChanges.push(m);
    }
    // RFC 9051 §7.3.5: a new keyword widens the FLAGS list, before anything carries it.
    lines.push(...this.announceFlags([...flags]));
    if (fresh.length > 0) {
      fresh.sort((a, b) => a - b);
      this.uids.push(...fresh);
      lines.push(`* ${this.uids.length} EXISTS\r\n`);
      if (this.recentState) {
        // RFC 3501 §2.3.2: new messages are recent here unless another session claimed them first.
        const recent = this.readOnly ? this.recentState.peek(this.mailbox, fresh) : this.recentState.claim(this.mailbox, fresh);
        for (const uid of recent) this.recent.add(uid);
      }
      if (!enabled.imap4rev2) lines.push(`* ${this.recent.size} RECENT\r\n`); // RFC 3501 §7.3.2
    }
    for (const m of flagChanges) {
      const seq = this.seqOf(m.uid);
      if (seq === undefined) continue;
      const modseq = enabled.condstore ? ` MODSEQ (${m.modseq})` : '';
      lines.push(`* ${seq} FETCH (UID ${m.uid} FLAGS (${this.shownFlags(m.uid, m.flags, enabled).join(' ')})${modseq})\r\n`);
    }
    this.reported.clear();
    this.modseq = Math.max(this.modseq, changes.highestModseq);
    // The counts of a fresh Mailbox cost a scan of the mailbox; the view needs only these.
    this.mailbox = {
      ...this.mailbox,
      highestModseq: Math.max(this.mailbox.highestModseq, changes.highestModseq),
      uidNext: Math.max(this.mailbox.uidNext, (this.uids[this.uids.length - 1] ?? 0) + 1),
    };
    return lines;
  }

  /** `* FLAGS` and `* OK [PERMANENTFLAGS]` (RFC 9051 §7.3.5, §7.1). */
  flagsLines(): string[] {
    const flags = [...this.knownFlags].join(' ');
    const permanent = this.readOnly ? '()' : `(${flags} \\*)`;
    return [`* FLAGS (${flags})\r\n`, `* OK [PERMANENTFLAGS ${permanent}] Flags permitted\r\n`];
  }

  private announceExpunges(enabled: EnabledExtensions, lines: string[]): void {
    if (this.pendingExpunge.size === 0) return;
    const gone = [...this.pendingExpunge].sort((a, b) => a - b);
    if (enabled.qresync) {
      lines.push(`* VANISHED ${formatSequenceSet(gone)}\r\n`); // RFC 7162 §3.2.10
    } else {
      // Highest sequence number first, so each number is still valid when the client reads it.
      for (let i = gone.length - 1; i >= 0; i--) {
        const seq = this.seqOf(gone[i]);
        if (seq !== undefined) lines.push(`* ${seq} EXPUNGE\r\n`);
      }
    }
    this.uids = this.uids.filter((uid) => !this.pendingExpunge.has(uid));
    for (const uid of this.pendingExpunge) this.recent.delete(uid);
    this.pendingExpunge.clear();
  }
}

/** Index of the first element ≥ `value` in an ascending array. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
