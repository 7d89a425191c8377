/**
 * IMAP commands as the parser (`parse-command.ts`) hands them to the session: IMAP4rev2
 * (RFC 9051 §6) and IMAP4rev1 (RFC 3501 §6), with the extensions we announce. Strings are
 * decoded (quoted, literal); mailbox names are as sent — the session decodes modified UTF-7
 * for IMAP4rev1 clients (RFC 3501 §5.1.3). Keywords such as flag names keep their spelling.
 */

/** One range of a sequence set; `'*'` is the largest number in use (RFC 9051 §9 seq-range). */
export interface SeqRange {
  readonly start: number | '*';
  readonly end: number | '*';
}

/** A sequence set, or `$`: the saved result of a previous SEARCH (RFC 5182 SEARCHRES). */
export type SequenceSet = { readonly kind: 'set'; readonly ranges: readonly SeqRange[] } | { readonly kind: 'saved' };

/** BODY[<section>]: `part` is the part path ([] = whole message), `text` the section-text. */
export interface Section {
  readonly part: readonly number[];
  readonly text: 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME' | null;
  /** Field names of HEADER.FIELDS (NOT), as sent. */
  readonly fields: readonly string[];
}

/** `<offset.length>` of a partial fetch (RFC 9051 §6.4.5). */
export interface Partial {
  readonly offset: number;
  readonly length: number;
}

/** FETCH data items (RFC 9051 §6.4.5; BINARY RFC 3516; MODSEQ RFC 7162). Macros ALL/FAST/FULL are expanded. */
export type FetchAttribute =
  | { readonly kind: 'UID' | 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODYSTRUCTURE' | 'MODSEQ' }
  /** BODY without a section: the non-extensible BODYSTRUCTURE. */
  | { readonly kind: 'BODY' }
  | { readonly kind: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' }
  | { readonly kind: 'BODY[]'; readonly peek: boolean; readonly section: Section; readonly partial: Partial | null }
  | { readonly kind: 'BINARY[]'; readonly peek: boolean; readonly part: readonly number[]; readonly partial: Partial | null }
  | { readonly kind: 'BINARY.SIZE'; readonly part: readonly number[] };

/** SEARCH keys (RFC 9051 §6.4.4; MODSEQ RFC 7162 §3.1.5). Dates are `YYYY-MM-DD` (the date-text, no time zone). */
export type SearchKey =
  | { readonly kind: 'all' }
  /** A system flag or keyword, present (`set`) or absent: SEEN, UNSEEN, KEYWORD x, UNKEYWORD x, … */
  | { readonly kind: 'flag'; readonly flag: string; readonly set: boolean }
  /** FROM/TO/CC/BCC/SUBJECT map to HEADER with that field name; substring, case-insensitive. */
  | { readonly kind: 'header'; readonly field: string; readonly value: string }
  | { readonly kind: 'text' | 'body'; readonly value: string }
  /** BEFORE/ON/SINCE (internal date) and SENTBEFORE/SENTON/SENTSINCE (Date: header). */
  | { readonly kind: 'date'; readonly which: 'internal' | 'sent'; readonly op: 'before' | 'on' | 'since'; readonly date: string }
  | { readonly kind: 'size'; readonly op: 'larger' | 'smaller'; readonly size: number }
  | { readonly kind: 'uid'; readonly set: SequenceSet }
  | { readonly kind: 'seq'; readonly set: SequenceSet }
  | { readonly kind: 'modseq'; readonly modseq: number }
  | { readonly kind: 'not'; readonly key: SearchKey }
  | { readonly kind: 'or'; readonly left: SearchKey; readonly right: SearchKey }
  | { readonly kind: 'and'; readonly keys: readonly SearchKey[] };

/** ESEARCH RETURN options (RFC 4731) and SAVE (RFC 5182). `null` = a plain SEARCH (untagged SEARCH reply). */
export type SearchReturn = readonly ('MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE')[] | null;

export type SortKey = 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO';

/** QRESYNC parameters of SELECT/EXAMINE (RFC 7162 §3.2.5). */
export interface QresyncParams {
  readonly uidValidity: number;
  readonly modseq: number;
  readonly knownUids: SequenceSet | null;
  readonly seqMatch: { readonly seqs: SequenceSet; readonly uids: SequenceSet } | null;
}

/** LIST (RFC 9051 §6.3.9 with LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819, SPECIAL-USE RFC 6154). */
export interface ListCommand {
  readonly name: 'LIST';
  readonly reference: string;
  readonly patterns: readonly string[];
  /** Selection options, upper-cased: SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE. */
  readonly selection: readonly string[];
  /** Return options, upper-cased: SUBSCRIBED, CHILDREN, SPECIAL-USE; `status` = STATUS items or null. */
  readonly returns: { readonly options: readonly string[]; readonly status: readonly string[] | null };
  /** True when the command used the extended syntax (selection or return options). */
  readonly extended: boolean;
}

export interface AppendMessage {
  readonly flags: readonly string[];
  /** The date-time argument, ms since epoch; null when absent (the server uses now). */
  readonly internalDate: number | null;
  readonly literal: Buffer;
}

type Commands =
  | { readonly name: 'CAPABILITY' | 'NOOP' | 'LOGOUT' | 'STARTTLS' | 'NAMESPACE' | 'IDLE' | 'CHECK' | 'CLOSE' | 'UNSELECT' }
  | { readonly name: 'LOGIN'; readonly user: string; readonly password: string }
  /** `initialResponse`: SASL-IR (RFC 4959) as sent — base64, or `=` for an empty response. */
  | { readonly name: 'AUTHENTICATE'; readonly mechanism: string; readonly initialResponse: string | null }
  | { readonly name: 'ENABLE'; readonly capabilities: readonly string[] }
  /** RFC 2971: null for `ID NIL`. */
  | { readonly name: 'ID'; readonly params: Readonly<Record<string, string | null>> | null }
  | { readonly name: 'COMPRESS'; readonly mechanism: string }
  | { readonly name: 'SELECT' | 'EXAMINE'; readonly mailbox: string; readonly condstore: boolean; readonly qresync: QresyncParams | null }
  | { readonly name: 'CREATE'; readonly mailbox: string; readonly specialUse: readonly string[] }
  | { readonly name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE'; readonly mailbox: string }
  | { readonly name: 'RENAME'; readonly from: string; readonly to: string }
  | ListCommand
  | { readonly name: 'LSUB'; readonly reference: string; readonly pattern: string }
  /** Items upper-cased: MESSAGES, UIDNEXT, UIDVALIDITY, UNSEEN, DELETED, SIZE, RECENT, HIGHESTMODSEQ. */
  | { readonly name: 'STATUS'; readonly mailbox: string; readonly items: readonly string[] }
  | { readonly name: 'APPEND'; readonly mailbox: string; readonly message: AppendMessage }
  | { readonly name: 'GETQUOTA'; readonly root: string }
  | { readonly name: 'GETQUOTAROOT'; readonly mailbox: string }
  | { readonly name: 'SETQUOTA'; readonly root: string; readonly limits: Readonly<Record<string, number>> }
  | {
      readonly name: 'FETCH';
      readonly uid: boolean;
      readonly set: SequenceSet;
      readonly attributes: readonly FetchAttribute[];
      /** CHANGEDSINCE (RFC 7162 §3.1.4) and VANISHED (RFC 7162 §3.2.6). */
      readonly changedSince: number | null;
      readonly vanished: boolean;
    }
  | {
      readonly name: 'STORE';
      readonly uid: boolean;
      readonly set: SequenceSet;
      readonly mode: 'add' | 'remove' | 'replace';
      readonly silent: boolean;
      readonly flags: readonly string[];
      readonly unchangedSince: number | null;
    }
  | { readonly name: 'COPY' | 'MOVE'; readonly uid: boolean; readonly set: SequenceSet; readonly mailbox: string }
  /** EXPUNGE, or UID EXPUNGE with its set (RFC 4315 §2.1). */
  | { readonly name: 'EXPUNGE'; readonly uidSet: SequenceSet | null }
  | { readonly name: 'SEARCH'; readonly uid: boolean; readonly charset: string | null; readonly returns: SearchReturn; readonly criteria: SearchKey }
  | {
      readonly name: 'SORT';
      readonly uid: boolean;
      readonly sort: readonly { readonly key: SortKey; readonly reverse: boolean }[];
      readonly charset: string;
      readonly returns: SearchReturn;
      readonly criteria: SearchKey;
    }
  | {
      readonly name: 'THREAD';
      readonly uid: boolean;
      readonly algorithm: 'REFERENCES' | 'ORDEREDSUBJECT';
      readonly charset: string;
      readonly criteria: SearchKey;
    };

export type ImapCommand = { readonly tag: string } & Commands;

export type CommandName = ImapCommand['name'];

/** A command that could not be parsed: the session answers `<tag> BAD <message>` (or `* BAD` without a tag). */
export class ImapParseError extends Error {
  constructor(
    message: string,
    readonly tag: string | null,
  ) {
    super(message);
    this.name = 'ImapParseError';
  }
}
