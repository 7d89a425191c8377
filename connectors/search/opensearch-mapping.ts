/**
 * The OpenSearch index of mail (connectors/search/opensearch.ts): its analyzers, its explicit
 * mapping (`dynamic: strict`, so a misspelt field is an error, never a new field) and the
 * document each `SearchDocument` becomes.
 *
 * Two kinds of text field, one per way of asking (search.ts):
 * - words (`search`): from, to, cc, subject, body, attachments with the `sluice_words`
 *   analyzer, which splits like SQLite's unicode61 tokenizer (letters, digits and private-use
 *   characters make words; everything else separates them), lowercases and folds diacritics
 *   (asciifolding, combining marks dropped). `index_prefixes` makes a prefix of the last word
 *   of up to `PREFIX_MAX_CHARS` characters one exact term lookup instead of an expansion.
 * - trigrams (`matchUids`, IMAP SEARCH, RFC 9051 §6.4.4): `sub.*`, the fields of `searchFields`
 *   (substring.ts), folded by `foldCase` in JavaScript and cut by the `sluice_trigrams` analyzer
 *   into every 3-character sequence, nothing else changed. A needle's trigrams as a phrase
 *   (consecutive positions) narrow the candidates; the raw header block, body and attachment
 *   names in `_source` then decide each one exactly with `matchesFields`. `sub` itself is left
 *   out of `_source` (it is rebuilt from the raw fields whenever a document is written), so a
 *   partial `update` would lose it: every change of a document re-indexes it whole.
 *
 * `_meta.sluice_mapping` is the version of this file's layout: an index made by another version
 * is refused at open rather than queried with the wrong fields.
 */
import type { SearchDocument } from './search.ts';
import { searchFields } from './substring.ts';

export const MAPPING_VERSION = 1;

/** The last word of a value is an indexed prefix up to this length (the mapper allows < 20). */
export const PREFIX_MAX_CHARS = 12;

/** The columns of `sub` (the `SearchFields` of substring.ts). */
export const SUBSTRING_FIELDS = ['headers', 'subject', 'from', 'to', 'cc', 'body', 'attachments'] as const;
export type SubstringField = (typeof SUBSTRING_FIELDS)[number];

/** What a stored document's `_source` holds (`sub` is excluded from it). */
export interface StoredDocument {
  readonly key: string;
  /** The owner, lowercased: also the routing value. */
  readonly user_id: string;
  readonly mailbox_id: number;
  readonly uid: number;
  readonly received_at: number;
  /** Has a header block: IMAP-searchable (`indexedUids`, `matchUids`). */
  readonly imap: boolean;
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  readonly subject: string;
  readonly body: string;
  readonly attachments: string;
  readonly headers: string;
}

export interface IndexedDocument extends StoredDocument {
  readonly sub: Readonly<Record<SubstringField, string>>;
}

/** The routing value and owner of a user's documents. */
export function routingOf(userId: string): string {
  return userId.toLowerCase();
}

export function storedDocument(doc: SearchDocument): StoredDocument {
  const headers = doc.headers ?? '';
  return {
    key: doc.messageKey,
    user_id: routingOf(doc.userId),
    mailbox_id: doc.mailboxId,
    uid: doc.uid,
    received_at: doc.receivedAt,
    imap: headers !== '',
    from: doc.from,
    to: doc.to,
    cc: doc.cc,
    subject: doc.subject,
    body: doc.body,
    attachments: doc.attachments,
    headers,
  };
}

/** The document as sent to OpenSearch: the stored fields and their folded trigram columns. */
export function indexedDocument(stored: StoredDocument): IndexedDocument {
  const f = searchFields(stored.headers, stored.body, stored.attachments);
  return {
    ...stored,
    sub: { headers: f.headers, subject: f.subject, from: f.from, to: f.to, cc: f.cc, body: f.body, attachments: f.attachments },
  };
}

export interface IndexLayout {
  readonly shards: number;
  readonly replicas: number;
  readonly refreshInterval: string;
}

/** Settings and mappings of `indices.create`. */
export function indexBody(layout: IndexLayout): { settings: Record<string, unknown>; mappings: Record<string, unknown> } {
  const words = {
    type: 'text',
    analyzer: 'sluice_words',
    index_prefixes: { min_chars: 1, max_chars: PREFIX_MAX_CHARS },
  };
  const trigrams = { type: 'text', analyzer: 'sluice_trigrams', norms: false, index_options: 'positions' };
  return {
    settings: {
      number_of_shards: layout.shards,
      number_of_replicas: layout.replicas,
      refresh_interval: layout.refreshInterval,
      analysis: {
        tokenizer: {
          // FTS5 unicode61's default token categories (L* N* Co) plus combining marks, dropped below.
          sluice_words: { type: 'pattern', pattern: '[^\\p{L}\\p{N}\\p{Co}\\p{M}]+' },
          sluice_trigrams: { type: 'ngram', min_gram: 3, max_gram: 3, token_chars: [] },
        },
        filter: {
          sluice_drop_marks: { type: 'pattern_replace', pattern: '\\p{M}+', replacement: '' },
          // A run of letters longer than this is cut, not refused (Lucene's term limit is 32 KiB).
          sluice_word_length: { type: 'truncate', length: 255 },
          sluice_nonempty: { type: 'length', min: 1 },
        },
        analyzer: {
          sluice_words: {
            type: 'custom',
            tokenizer: 'sluice_words',
            filter: ['lowercase', 'asciifolding', 'sluice_drop_marks', 'sluice_nonempty', 'sluice_word_length'],
          },
          sluice_trigrams: { type: 'custom', tokenizer: 'sluice_trigrams', filter: [] },
        },
      },
    },
    mappings: {
      dynamic: 'strict',
      _meta: { sluice_mapping: MAPPING_VERSION },
      _routing: { required: true },
      _source: { excludes: ['sub', 'sub.*'] },
      properties: {
        key: { type: 'keyword' },
        user_id: { type: 'keyword' },
        mailbox_id: { type: 'long' },
        uid: { type: 'long' },
        received_at: { type: 'date', format: 'epoch_millis' },
        imap: { type: 'boolean' },
        from: words,
        to: words,
        cc: words,
        subject: words,
        body: words,
        attachments: words,
        headers: { type: 'text', index: false },
        sub: { properties: Object.fromEntries(SUBSTRING_FIELDS.map((f) => [f, trigrams])) },
      },
    },
  };
}
