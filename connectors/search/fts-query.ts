/**
 * Builds an SQLite FTS5 MATCH expression from search terms without ever letting the user's
 * text be read as FTS5 syntax: every value becomes one FTS5 string ("…", with `"` doubled),
 * which FTS5 tokenizes like the documents, so operators (`AND`, `NOT`, `*`, `-`, `:`, `^`,
 * parentheses) inside a value are plain text. A value of several words is a phrase.
 *
 * The last word of each value matches as a prefix (`"…"*`): IMAP SEARCH matches substrings
 * (RFC 9051 §6.4.4), and a word prefix is the closest a token index gets ("invo" finds
 * "invoice"). Terms are AND-ed; a blank value constrains nothing; a value with no letters or
 * digits matches nothing.
 */
import type { SearchField } from './search.ts';

/** FTS5 column names, in table order (`owner` is the per-user token; see `ownerToken`). */
export const FTS_COLUMNS = ['from_addr', 'to_addr', 'cc_addr', 'subject', 'body', 'attachments', 'owner'] as const;

const FIELD_COLUMN: Record<Exclude<SearchField, 'text'>, string> = {
  from: 'from_addr',
  to: 'to_addr',
  cc: 'cc_addr',
  subject: 'subject',
  body: 'body',
  attachments: 'attachments',
};

const TEXT_COLUMNS = `{${Object.values(FIELD_COLUMN).join(' ')}}`;

/** An FTS5 string literal holding `value` verbatim. */
export function ftsString(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

/** The MATCH expression: the owner's token AND every term. */
export function buildMatch(owner: string, terms: readonly { field: SearchField; value: string }[]): string {
  const parts = [`owner : ${ftsString(owner)}`];
  for (const term of terms) {
    if (term.value.trim() === '') continue;
    const columns = term.field === 'text' ? TEXT_COLUMNS : FIELD_COLUMN[term.field];
    if (columns === undefined) throw new Error(`unknown search field: ${String(term.field)}`);
    parts.push(`${columns} : ${ftsString(term.value)}*`);
  }
  return parts.join(' AND ');
}
