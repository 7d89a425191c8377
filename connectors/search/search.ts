/**
 * Full-text index of mail (embedded: SQLite FTS5; distributed: OpenSearch). Documents are
 * keyed by `messageKey`, so indexing the same message again replaces it (idempotent sink).
 */
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

export interface SearchIndex {
  index(docs: readonly SearchDocument[]): Promise<void>;
  remove(messageKeys: readonly string[]): Promise<void>;
  search(query: SearchQuery): Promise<SearchHit[]>;
  close(): Promise<void>;
}
