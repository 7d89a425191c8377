/**
 * Full-text index of mail (embedded: SQLite FTS5; distributed: OpenSearch). Documents are
 * keyed by `messageKey`, so indexing the same message again replaces it (idempotent sink).
 *
 * Two ways to ask: `search` (words and word prefixes, for the CLI, JMAP and the web client)
 * and `matchUids` (exact case-insensitive substrings, for IMAP SEARCH, RFC 9051 §6.4.4, with
 * the semantics of `substring.ts`). Mailbox events keep documents where the messages are:
 * `relocate` (MOVE), `copy` (COPY), `remove` (EXPUNGE, deleted mailboxes).
 */
import type { SubstringMatch } from './substring.ts';
import type { EngineHealth } from '../health.ts';

export type { SubstringMatch } from './substring.ts';

export interface SearchDocument {
  readonly messageKey: string;
  readonly userId: string;
  readonly mailboxId: number;
  readonly uid: number;
  readonly receivedAt: number;
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  readonly subject: string;
  readonly body: string;
  /** Attachment file names, space separated. */
  readonly attachments: string;
  /**
   * The header block (processors/mime/read-message.ts `headerBlock`: `name: value` lines,
   * unfolded, decoded). A document without it ('' or absent) is not IMAP-searchable: it is
   * left out of `indexedUids` and `matchUids`, so IMAP reads such messages itself.
   */
  readonly headers?: string;
}

export type SearchField = 'from' | 'to' | 'cc' | 'subject' | 'body' | 'attachments' | 'text';

export interface SearchQuery {
  readonly userId: string;
  /** Restrict to one mailbox. */
  readonly mailboxId?: number;
  /** Every term must match (AND); `field: 'text'` means any field. Terms are words or phrases. */
  readonly terms: readonly { field: SearchField; value: string }[];
  readonly limit?: number;
}

export interface SearchHit {
  readonly messageKey: string;
  readonly mailboxId: number;
  readonly uid: number;
}

/** A document's new place after a MOVE (RFC 6851): same key, another mailbox and UID. */
export interface Relocation {
  readonly messageKey: string;
  readonly mailboxId: number;
  readonly uid: number;
}

/** A COPY (RFC 9051 §6.4.7): the document of `fromKey` again, as `toKey` in another place. */
export interface DocumentCopy {
  readonly fromKey: string;
  readonly toKey: string;
  readonly mailboxId: number;
  readonly uid: number;
}

export interface SearchIndex {
  /** Adds or replaces documents by key; one durable write for the batch. */
  index(docs: readonly SearchDocument[]): Promise<void>;
  /** Removes documents; unknown keys are ignored. */
  remove(messageKeys: readonly string[]): Promise<void>;
  /** Word search (see SearchQuery). */
  search(query: SearchQuery): Promise<SearchHit[]>;
  /**
   * IMAP SEARCH string keys: the UIDs of the user's IMAP-searchable documents in one mailbox
   * that match, exactly as `matchesFields` (substring.ts) decides. Needles are data, never
   * query syntax. Documents without headers never match (they are not in `indexedUids`).
   */
  matchUids(userId: string, mailboxId: number, match: SubstringMatch): Promise<Set<number>>;
  /** UIDs of the user's IMAP-searchable documents in one mailbox (indexed, with headers). */
  indexedUids(userId: string, mailboxId: number): Promise<Set<number>>;
  /**
   * Values of one header field (name any case) of the IMAP-searchable documents of a mailbox,
   * folded (`foldCase`), by UID; documents without the field are absent.
   */
  fieldValues(userId: string, mailboxId: number, field: string): Promise<Map<number, string[]>>;
  /** Moves documents to another mailbox/UID; unknown keys are ignored. Idempotent. */
  relocate(moves: readonly Relocation[]): Promise<void>;
  /**
   * Copies documents (the copy belongs to the source's user); a source not indexed is skipped,
   * an existing `toKey` replaced. Idempotent.
   */
  copy(copies: readonly DocumentCopy[]): Promise<void>;
  /** One cheap round trip to the engine (`connectors/health.ts`); never throws. */
  health(): Promise<EngineHealth>;
  close(): Promise<void>;
}
