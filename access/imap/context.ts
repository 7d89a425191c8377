/**
 * The contract between the IMAP session (`session.ts`: connection, state machine, selected
 * mailbox, untagged updates) and the command handlers of the selected state
 * (`commands/*.ts`: FETCH, STORE, COPY, MOVE, EXPUNGE, SEARCH, SORT, THREAD).
 */
import type { Logger } from 'pino';
import type { Mailbox, User } from '../../connectors/store/store.ts';
import type { MailboxService } from '../mailbox-service.ts';
import type { SequenceSet } from './command.ts';

/** The tagged reply a handler asks for: `<tag> <status> [<code>] <text>` (RFC 9051 §7.1). */
export interface CommandResult {
  readonly status: 'OK' | 'NO' | 'BAD';
  /** Response code without brackets, e.g. `COPYUID 38505 304,319:320 3956:3958`, `TRYCREATE`. */
  readonly code?: string;
  readonly text: string;
}

/** Extensions the client turned on with ENABLE (RFC 5161) or implied (CONDSTORE by a MODSEQ use). */
export interface EnabledExtensions {
  condstore: boolean;
  qresync: boolean;
  /** IMAP4rev2 enabled: untagged ESEARCH replies, no RECENT, UTF-8 names (RFC 9051 §6.3.1). */
  imap4rev2: boolean;
  /** UTF8=ACCEPT (RFC 6855) or IMAP4rev2: mailbox names are UTF-8, not modified UTF-7. */
  utf8: boolean;
}

/**
 * The selected mailbox as this session knows it: the sequence-number ↔ UID map changes only
 * when the session tells the client (EXISTS, EXPUNGE/VANISHED), RFC 9051 §7.5.1.
 */
export interface SelectedView {
  readonly mailbox: Mailbox;
  readonly readOnly: boolean;
  /** UIDs by sequence number: `uids[0]` is message 1. Ascending. */
  readonly uids: readonly number[];
  /** Sequence number (1-based) of a UID this session knows, else undefined. */
  seqOf(uid: number): number | undefined;
  /**
   * UIDs (ascending, no duplicates) of known messages named by `set`: sequence numbers or UIDs
   * (`byUid`); `*` is the last message; `$` is `savedSearch`. Sequence numbers beyond the
   * mailbox make `resolve` throw a `RangeError` (the handler answers BAD, RFC 9051 §6.4.5).
   */
  resolve(set: SequenceSet, byUid: boolean): number[];
  /** RFC 5182 SEARCHRES: the UIDs of the last `SEARCH RETURN (SAVE)`; empty initially. */
  savedSearch: number[];
  /** UIDs that are \Recent in this session (RFC 3501 §2.3.2, `recent.ts`); shown to IMAP4rev1 clients only. */
  readonly recent: ReadonlySet<number>;
  /**
   * RFC 9051 §7.3.5: a flag the client was not told about in FLAGS must be announced before any
   * response that carries it. Returns `* FLAGS` and `* OK [PERMANENTFLAGS]` to write first when
   * `flags` has such a flag (and counts them as announced), else nothing.
   */
  announceFlags(flags: readonly string[]): string[];
  /**
   * Record flags and MODSEQ this session has already reported for a UID (after its own STORE),
   * so the next update does not repeat them.
   */
  noteReported(uid: number, modseq: number): void;
  /**
   * This session's own change took `modseq`. When that is the MODSEQ right after the highest the
   * session has seen, nothing else changed the mailbox in between (each change takes the next
   * MODSEQ of its mailbox), so the session has seen everything up to it.
   */
  noteOwnChange(modseq: number): void;
}

export interface ImapContext {
  readonly user: User;
  readonly service: MailboxService;
  readonly selected: SelectedView;
  readonly enabled: EnabledExtensions;
  readonly logger: Logger;
  /**
   * Writes untagged response bytes as given (build them with `wire/encode.ts`; literals go in
   * as Buffers). Each call should be one or more complete response lines ending in CRLF.
   */
  write(...chunks: (string | Buffer)[]): void;
  /** Mailbox names to and from the wire (modified UTF-7 unless `enabled.utf8`). */
  decodeMailboxName(name: string): string;
  encodeMailboxName(name: string): string;
}

export type SelectedCommandHandler<C> = (context: ImapContext, command: C) => Promise<CommandResult>;
