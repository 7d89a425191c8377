/**
 * What IMAP SEARCH's string keys mean here (RFC 9051 §6.4.4: "case-insensitive substring"),
 * in one place: every `SearchIndex` answers `matchUids` exactly as `matchesFields` below
 * answers for one message, so an evaluator may mix index answers with messages it reads itself.
 *
 * - Case: both sides are folded with `foldCase` (Unicode lowercase, final sigma as sigma; no
 *   diacritic folding: "cafe" does not find "café").
 * - Headers: the `headers` block of the message (processors/mime/read-message.ts `headerBlock`:
 *   one `name: value` line per field, name lowercase, value unfolded and RFC 2047-decoded).
 *   HEADER name value matches when a field of that name has `value` in its value; an empty
 *   value matches every message that has the field. FROM/TO/CC/BCC/SUBJECT are HEADER keys.
 * - BODY looks in the body text (what the parse stage extracted: text parts, or HTML made
 *   text) and, apart, in the attachment names (space separated).
 * - TEXT looks in each header line (`name: value`), the body text and the attachment names.
 * - A needle holding CR or LF never matches in headers (values are unfolded).
 */

/** Where one string key looks. */
export type SubstringMatch =
  | { readonly in: 'text' | 'body'; readonly needle: string }
  /** `field` is the header field name, any case (FROM, TO, CC, BCC, SUBJECT or any other). */
  | { readonly in: 'header'; readonly field: string; readonly needle: string };

/** The searchable text of one message, each part already folded (see `searchFields`). */
export interface SearchFields {
  /** `\n` + the header lines joined by `\n` + `\n` (so every line is `\n`-delimited), or '' without headers. */
  readonly headers: string;
  /** Values of the Subject, From, To and Cc fields, each joined by `\n`. */
  readonly subject: string;
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  readonly body: string;
  readonly attachments: string;
}

/** Header fields with their own column (the common SEARCH keys). */
export const FIELD_COLUMNS = ['subject', 'from', 'to', 'cc'] as const;
export type FieldColumn = (typeof FIELD_COLUMNS)[number];

export function isFieldColumn(name: string): name is FieldColumn {
  return (FIELD_COLUMNS as readonly string[]).includes(name);
}

/** Unicode lowercase without context rules (final sigma folds like sigma); NUL becomes a space. */
export function foldCase(s: string): string {
  const lower = s.toLowerCase();
  // eslint-disable-next-line no-control-regex
  return /[ς\u0000]/.test(lower) ? lower.replace(/ς/g, 'σ').replace(/\u0000/g, ' ') : lower;
}

/** The folded search fields of a message from its header block, body text and attachment names. */
export function searchFields(headers: string, body: string, attachments: string): SearchFields {
  const folded = foldCase(headers);
  const lines = folded === '' ? [] : folded.split('\n');
  const values: Record<FieldColumn, string[]> = { subject: [], from: [], to: [], cc: [] };
  for (const line of lines) {
    const colon = line.indexOf(': ');
    if (colon < 0) continue;
    const name = line.slice(0, colon);
    if (isFieldColumn(name)) values[name].push(line.slice(colon + 2));
  }
  return {
    headers: lines.length === 0 ? '' : `\n${lines.join('\n')}\n`,
    subject: values.subject.join('\n'),
    from: values.from.join('\n'),
    to: values.to.join('\n'),
    cc: values.cc.join('\n'),
    body: foldCase(body),
    attachments: foldCase(attachments),
  };
}

/** Whether a needle may be looked for in header text at all. */
export function fitsHeaders(needle: string): boolean {
  return !/[\r\n]/.test(needle);
}

/** A field name as the header block spells it (lowercase), or null when no field can have it. */
export function headerFieldName(field: string): string | null {
  const name = foldCase(field);
  return name === '' || /[:\r\n]/.test(name) ? null : name;
}

/** The reference semantics: whether one message matches. */
export function matchesFields(fields: SearchFields, match: SubstringMatch): boolean {
  const needle = foldCase(match.needle);
  if (match.in !== 'header') {
    if (fields.body.includes(needle) || fields.attachments.includes(needle)) return true;
    return match.in === 'text' && fitsHeaders(needle) && fields.headers.includes(needle);
  }
  const name = headerFieldName(match.field);
  if (name === null || !fitsHeaders(needle)) return false;
  if (needle !== '' && isFieldColumn(name)) return fields[name].includes(needle);
  return headerLinesMatch(fields.headers, name, needle);
}

/** Whether the folded header block has a field `name` (folded) whose value holds `needle` (folded). */
export function headerLinesMatch(headers: string, name: string, needle: string): boolean {
  const prefix = `\n${name}: `;
  let at = headers.indexOf(prefix);
  while (at >= 0) {
    const start = at + prefix.length;
    const end = headers.indexOf('\n', start);
    if (needle === '' || headers.slice(start, end < 0 ? undefined : end).includes(needle)) return true;
    at = headers.indexOf(prefix, start);
  }
  return false;
}

/** Values of one field (folded name), in order, from a folded header block. */
export function headerLineValues(headers: string, name: string): string[] {
  const out: string[] = [];
  const prefix = `\n${name}: `;
  let at = headers.indexOf(prefix);
  while (at >= 0) {
    const start = at + prefix.length;
    const end = headers.indexOf('\n', start);
    out.push(headers.slice(start, end < 0 ? undefined : end));
    at = headers.indexOf(prefix, start);
  }
  return out;
}
