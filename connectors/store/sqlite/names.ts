/**
 * Rules on mailbox names and flags, shared by the store's writes. Pure functions: no database.
 * The hierarchy delimiter is `/`.
 */
import type { SpecialUse } from '../store.ts';

export const DELIMITER = '/';
export const MAX_MAILBOX_NAME = 255;

/** INBOX is case-insensitive; other names are as given (RFC 9051 §5.1). */
export function mailboxName(name: string): string {
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

export function isInbox(name: string): boolean {
  return name.toUpperCase() === 'INBOX';
}

/**
 * A name a client may create or rename to, with one trailing delimiter trimmed (RFC 9051 §6.3.4:
 * "CREATE foo/" creates foo), or an error text: not empty, no wildcards (`*`, `%` are LIST
 * patterns, RFC 9051 §6.3.9), no control characters, no empty hierarchy level, at most 255 chars.
 */
export function checkNewMailboxName(raw: string): { name: string } | { error: string } {
  const name = raw.endsWith(DELIMITER) ? raw.slice(0, -1) : raw;
  if (name.length === 0) return { error: 'empty mailbox name' };
  if (name.length > MAX_MAILBOX_NAME) return { error: `mailbox name longer than ${MAX_MAILBOX_NAME} characters` };
  if (/[*%]/.test(name)) return { error: 'mailbox names cannot contain * or %' };
  if ([...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
    return { error: 'mailbox names cannot contain control characters' };
  }
  if (name.split(DELIMITER).some((level) => level.length === 0)) return { error: 'mailbox name has an empty hierarchy level' };
  return { name: mailboxName(name) };
}

/** The superior names of `name`, outermost first: "a/b/c" → ["a", "a/b"]. */
export function parentNames(name: string): string[] {
  const levels = name.split(DELIMITER);
  return levels.slice(1).map((_, i) => levels.slice(0, i + 1).join(DELIMITER));
}

/** Whether `name` is an inferior of `parent` in the hierarchy ("a/b" of "a"). */
export function isInferior(name: string, parent: string): boolean {
  return name.startsWith(parent + DELIMITER);
}

/**
 * RFC 6154 §2 attributes a client may give in CREATE (RFC 6154 §3), in their canonical
 * spelling. `\Inbox` is ours (INBOX's marker), not one a client can create.
 */
const CREATABLE_SPECIAL_USE: readonly SpecialUse[] = ['\\Sent', '\\Drafts', '\\Junk', '\\Trash', '\\Archive'];

/** The canonical special-use attribute, or null when it is not one we support. */
export function specialUseOf(attribute: string): SpecialUse | null {
  return CREATABLE_SPECIAL_USE.find((s) => s.toLowerCase() === attribute.toLowerCase()) ?? null;
}

/** Flags are case-insensitive (RFC 9051 §2.3.2): keep the first spelling of each. */
export function uniqueFlags(flags: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const flag of flags) {
    const lower = flag.toLowerCase();
    if (seen.has(lower)) continue;
    seen.add(lower);
    out.push(flag);
  }
  return out;
}

/** Flags as stored: unique, and never `\Recent` (RFC 9051 §2.3.2: a session property, not stored; STORE cannot set it). */
export function storedFlags(flags: readonly string[]): string[] {
  return uniqueFlags(flags).filter((f) => f.toLowerCase() !== '\\recent');
}

export function hasFlag(flags: readonly string[], flag: string): boolean {
  const lower = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === lower);
}

/** A message's flags after an IMAP STORE (RFC 9051 §6.4.6): FLAGS replaces, +FLAGS adds, -FLAGS removes. */
export function nextFlags(current: readonly string[], mode: 'add' | 'remove' | 'replace', flags: readonly string[]): string[] {
  const given = storedFlags(flags);
  if (mode === 'replace') return given;
  if (mode === 'add') return uniqueFlags([...current, ...given]);
  return current.filter((f) => !hasFlag(given, f));
}

/** Same flags, ignoring case and order. */
export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((f) => hasFlag(b, f));
}
