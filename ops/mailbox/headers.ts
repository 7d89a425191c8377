/**
 * A cheap scan of a message's header section (RFC 5322 §2.2, §3.6) for the few fields that
 * import needs — Message-ID, Date and the mbox status fields — without a MIME parse.
 */
import { messageIds } from '../../processors/mime/read-message.ts';

export interface HeaderScan {
  /** The Message-ID in its `<id-left@id-right>` form (RFC 5322 §3.6.4), or null. */
  readonly messageId: string | null;
  /** The Date field (RFC 5322 §3.6.1) in ms since epoch, or null when absent or unreadable. */
  readonly date: number | null;
  /** The `Status:` field that mbox tools (mutt, Thunderbird, Python) keep flags in. */
  readonly status: string | null;
  readonly xStatus: string | null;
}

/** Header sections beyond this are not scanned (a real one is a few kB). */
const MAX_HEADER_BYTES = 256 * 1024;

export function scanHeaders(bytes: Buffer): HeaderScan {
  const fields = headerFields(bytes, ['message-id', 'date', 'status', 'x-status']);
  const date = fields.get('date');
  return {
    messageId: normalizeMessageId(fields.get('message-id') ?? null),
    date: date === undefined ? null : parseDate(date),
    status: fields.get('status') ?? null,
    xStatus: fields.get('x-status') ?? null,
  };
}

/** The unfolded value of the first occurrence of each wanted field (names lower-case). */
export function headerFields(bytes: Buffer, wanted: readonly string[]): Map<string, string> {
  const end = headerEnd(bytes);
  const text = bytes.subarray(0, end).toString('latin1');
  const found = new Map<string, string>();
  const want = new Set(wanted);
  let name: string | null = null;
  let value = '';
  const flush = () => {
    if (name !== null && want.has(name) && !found.has(name)) found.set(name, value.trim());
    name = null;
  };
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    if (line[0] === ' ' || line[0] === '\t') {
      // RFC 5322 §2.2.3: a folded line continues the field before it.
      if (name !== null) value += line;
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    name = line.slice(0, colon).trim().toLowerCase();
    value = line.slice(colon + 1);
  }
  flush();
  return found;
}

function headerEnd(bytes: Buffer): number {
  const limit = Math.min(bytes.length, MAX_HEADER_BYTES);
  const crlf = bytes.indexOf('\r\n\r\n');
  const lf = bytes.indexOf('\n\n');
  const candidates = [crlf, lf].filter((i) => i >= 0 && i < limit);
  return candidates.length > 0 ? Math.min(...candidates) : limit;
}

/** The first msg-id, normalized as the parse stage does it (so `store.hasMessageId` compares like with like). */
export function normalizeMessageId(value: string | null): string | null {
  return messageIds(value ?? undefined)[0] ?? null;
}

/** RFC 5322 §3.3 date-time (comments removed), via the JavaScript date parser. */
export function parseDate(value: string): number | null {
  const cleaned = value.replace(/\([^()]*\)/g, ' ').replace(/\s+/g, ' ').trim();
  if (cleaned === '') return null;
  const ms = Date.parse(cleaned);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * IMAP flags from the mbox `Status:` / `X-Status:` fields (the convention of mutt, Pine,
 * Thunderbird and Python's `mailbox.mboxMessage`): R seen; A answered, F flagged, T draft,
 * D deleted. O (old, i.e. not recent) has no IMAP flag.
 */
export function flagsFromStatus(status: string | null, xStatus: string | null): string[] {
  const letters = `${status ?? ''}${xStatus ?? ''}`;
  const flags: string[] = [];
  if (letters.includes('A')) flags.push('\\Answered');
  if (letters.includes('F')) flags.push('\\Flagged');
  if (letters.includes('R')) flags.push('\\Seen');
  if (letters.includes('T')) flags.push('\\Draft');
  if (letters.includes('D')) flags.push('\\Deleted');
  return flags;
}
