/**
 * The IMAP SEARCH side of the OpenSearch index (RFC 9051 §6.4.4 substrings, the semantics of
 * substring.ts): which documents of a mailbox may match, as query clauses over the trigram
 * fields `sub.*` (opensearch-mapping.ts), and the exact decision on each candidate.
 *
 * - a needle of 3+ characters (code points, as the ngram tokenizer counts): a `match_phrase` of
 *   its trigrams in the columns the key looks in — consecutive trigrams, so already a substring
 *   test; the needle is analyzed text, never query syntax;
 * - a shorter needle: no trigram to look up, so every IMAP-searchable document of the mailbox
 *   is a candidate (SQLite scans with `instr()` the same way);
 * - HEADER with a field that has no column, or an empty needle: the documents whose header block
 *   has `"\nname: "` (a phrase too), and the needle's phrase when it has trigrams.
 * Every candidate is then checked with `matchesFields` on its raw header block, body and
 * attachment names, so the answer is the reference's whatever the analyzer did.
 */
import {
  fitsHeaders,
  foldCase,
  headerFieldName,
  isFieldColumn,
  matchesFields,
  searchFields,
  type SubstringMatch,
} from './substring.ts';
import type { StoredDocument, SubstringField } from './opensearch-mapping.ts';

export type QueryClause = Record<string, unknown>;

/** The search for candidates: extra `filter` clauses (none: the whole mailbox), or no document at all. */
export interface SubstringPlan {
  readonly clauses: readonly QueryClause[];
  /** `_source` fields the decision needs. */
  readonly source: readonly (keyof StoredDocument)[];
}

function phrase(field: SubstringField, text: string): QueryClause {
  return { match_phrase: { [`sub.${field}`]: { query: text } } };
}

function inAny(fields: readonly SubstringField[], needle: string): QueryClause {
  return { bool: { should: fields.map((f) => phrase(f, needle)), minimum_should_match: 1 } };
}

const hasTrigrams = (s: string): boolean => [...s].length >= 3;

/** The candidate search for one string key, or null when no document can match. */
export function substringPlan(match: SubstringMatch): SubstringPlan | null {
  const needle = foldCase(match.needle);
  if (match.in !== 'header') {
    const columns: SubstringField[] = match.in === 'body' || !fitsHeaders(needle) ? ['body', 'attachments'] : ['headers', 'body', 'attachments'];
    const source: (keyof StoredDocument)[] = match.in === 'body' ? ['uid', 'body', 'attachments'] : ['uid', 'headers', 'body', 'attachments'];
    return { clauses: hasTrigrams(needle) ? [inAny(columns, needle)] : [], source };
  }
  const name = headerFieldName(match.field);
  if (name === null || !fitsHeaders(needle)) return null;
  const source: (keyof StoredDocument)[] = ['uid', 'headers'];
  if (needle !== '' && isFieldColumn(name)) return { clauses: hasTrigrams(needle) ? [phrase(name, needle)] : [], source };
  const clauses = [hasField(name)];
  if (hasTrigrams(needle)) clauses.push(phrase('headers', needle));
  return { clauses, source };
}

/** Documents whose folded header block has a field `name` (folded, from `headerFieldName`). */
export function hasField(name: string): QueryClause {
  return phrase('headers', `\n${name}: `);
}

/** The exact decision on one candidate (its `_source`, with the fields of the plan). */
export function candidateMatches(doc: Partial<StoredDocument>, match: SubstringMatch): boolean {
  return matchesFields(searchFields(doc.headers ?? '', doc.body ?? '', doc.attachments ?? ''), match);
}
