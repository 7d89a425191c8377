/**
 * LIST (RFC 9051 §6.3.9) with LIST-EXTENDED selection and return options (RFC 5258),
 * LIST-STATUS (RFC 5819), SPECIAL-USE (RFC 6154) and CHILDREN (RFC 3348); LSUB (RFC 3501
 * §6.3.9). One hierarchy, delimiter `/`; `*` matches anything, `%` anything but `/`.
 */
import type { Mailbox } from '../../../connectors/store/store.ts';
import type { ImapCommand, ListCommand } from '../command.ts';
import type { CommandResult } from '../context.ts';
import type { SessionApi } from '../session-api.ts';
import { ResponseBuilder } from '../wire/encode.ts';
import { checkStatusItems, statusResponse } from './status.ts';

type LsubCommand = Extract<ImapCommand, { name: 'LSUB' }>;

/** A name pattern as a matcher; INBOX matches case-insensitively (RFC 9051 §5.1). */
export function patternMatcher(pattern: string): (name: string) => boolean {
  const source = `^${[...pattern].map((ch) => (ch === '*' ? '.*' : ch === '%' ? '[^/]*' : ch.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))).join('')}$`;
  const exact = new RegExp(source, 'su');
  const folded = new RegExp(source, 'isu');
  return (name) => exact.test(name) || ((name === 'INBOX' || name.startsWith('INBOX/')) && folded.test(name));
}

/** RFC 9051 §6.3.9: the reference and the pattern together name what to match. */
function fullPattern(reference: string, pattern: string): string {
  if (reference === '') return pattern;
  if (reference.endsWith('/') && pattern.startsWith('/')) return reference + pattern.slice(1);
  return reference + pattern;
}

function ancestors(name: string): string[] {
  const out: string[] = [];
  for (let i = name.indexOf('/'); i > 0; i = name.indexOf('/', i + 1)) out.push(name.slice(0, i));
  return out;
}

function byName(a: string, b: string): number {
  if (a === 'INBOX') return b === 'INBOX' ? 0 : -1;
  if (b === 'INBOX') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Entry {
  readonly name: string;
  readonly attributes: string[];
  readonly mailbox: Mailbox | null;
  readonly childInfo: boolean;
}

function listLine(s: SessionApi, command: 'LIST' | 'LSUB', entry: Entry): Buffer {
  const builder = new ResponseBuilder({ utf8: s.enabled.utf8 })
    .text(`* ${command} (${entry.attributes.join(' ')}) "/" `)
    .value(s.encodeMailboxName(entry.name));
  // RFC 5258 §4: CHILDINFO extended data for RECURSIVEMATCH.
  if (entry.childInfo) builder.text(' ("CHILDINFO" ("SUBSCRIBED"))');
  return builder.text('\r\n').toBuffer();
}

// RFC 9051 §6.3.9, RFC 5258 §3
export async function handleList(s: SessionApi, command: ListCommand): Promise<CommandResult> {
  const statusItems = command.returns.status;
  if (statusItems) checkStatusItems(statusItems);
  const reference = s.decodeMailboxName(command.reference);
  if (!command.extended && command.patterns.length === 1 && command.patterns[0] === '') {
    // RFC 9051 §6.3.9: an empty pattern asks for the delimiter and the reference's root.
    const slash = reference.indexOf('/');
    const root = slash === -1 ? '' : reference.slice(0, slash + 1);
    s.write(new ResponseBuilder({ utf8: s.enabled.utf8 }).text('* LIST (\\Noselect) "/" ').value(s.encodeMailboxName(root)).text('\r\n').toBuffer());
    return { status: 'OK', text: 'LIST completed' };
  }
  const matchers = command.patterns.map((p) => patternMatcher(fullPattern(reference, s.decodeMailboxName(p))));
  const matches = (name: string) => matchers.some((m) => m(name));

  const selection = new Set(command.selection);
  const returns = new Set(command.returns.options);
  const selectSubscribed = selection.has('SUBSCRIBED');
  const recursive = selection.has('RECURSIVEMATCH');
  const specialOnly = selection.has('SPECIAL-USE');
  const showSubscribed = selectSubscribed || returns.has('SUBSCRIBED');
  // Rev1 clients know \Noselect; LIST-EXTENDED and IMAP4rev2 clients know \NonExistent (RFC 5258 §3.4).
  const missing = command.extended || s.enabled.imap4rev2 ? '\\NonExistent' : '\\Noselect';

  const [mailboxes, subscriptions] = await Promise.all([s.service.store.mailboxes(s.user.id), s.service.store.subscriptions(s.user.id)]);
  const existing = new Map(mailboxes.map((m) => [m.name, m]));
  const subscribed = new Set(subscriptions);
  const parents = new Set<string>();
  for (const m of mailboxes) for (const a of ancestors(m.name)) parents.add(a);
  // RFC 5258 §3.5: CHILDINFO is for a parent whose subscribed descendant is not itself listed
  // (does not match the patterns); a client that asked for both gets only the child.
  const subscribedParents = new Set<string>();
  for (const name of subscribed) if (!matches(name)) for (const a of ancestors(name)) subscribedParents.add(a);

  let names: string[];
  if (selectSubscribed) {
    names = [...subscribed];
    if (recursive) for (const a of subscribedParents) if (!subscribed.has(a)) names.push(a);
  } else {
    names = [...existing.keys(), ...[...parents].filter((p) => !existing.has(p))];
  }

  const entries: Entry[] = [];
  for (const name of names.filter(matches).sort(byName)) {
    const mailbox = existing.get(name) ?? null;
    if (specialOnly && (!mailbox?.specialUse || mailbox.specialUse === '\\Inbox')) continue;
    const isSubscribed = subscribed.has(name);
    // RFC 5258 §3.5: with RECURSIVEMATCH, a non-subscribed parent appears only for its children.
    const childInfo = selectSubscribed && recursive && !isSubscribed && subscribedParents.has(name);
    if (selectSubscribed && !isSubscribed && !childInfo) continue;
    const attributes: string[] = [];
    if (!mailbox) attributes.push(missing);
    // RFC 5258 §4: a server MAY give children attributes without RETURN (CHILDREN); we always do.
    if (parents.has(name)) attributes.push('\\HasChildren');
    else if (mailbox) attributes.push('\\HasNoChildren');
    if (showSubscribed && isSubscribed) attributes.push('\\Subscribed');
    // RFC 6154 §2: special-use attributes (\Inbox is not one of them).
    if (mailbox?.specialUse && mailbox.specialUse !== '\\Inbox') attributes.push(mailbox.specialUse);
    entries.push({ name, attributes, mailbox, childInfo });
  }
  for (const entry of entries) {
    s.write(listLine(s, 'LIST', entry));
    // RFC 5819 §2: STATUS right after the LIST line of each selectable mailbox.
    if (statusItems && entry.mailbox) s.write(await statusResponse(s, entry.mailbox, statusItems));
  }
  return { status: 'OK', text: 'LIST completed' };
}

// RFC 3501 §6.3.9 (not in IMAP4rev2, still used by rev1 clients)
export async function handleLsub(s: SessionApi, command: LsubCommand): Promise<CommandResult> {
  const matches = patternMatcher(fullPattern(s.decodeMailboxName(command.reference), s.decodeMailboxName(command.pattern)));
  const [mailboxes, subscriptions] = await Promise.all([s.service.store.mailboxes(s.user.id), s.service.store.subscriptions(s.user.id)]);
  const existing = new Set(mailboxes.map((m) => m.name));
  const subscribed = new Set(subscriptions);
  const out = new Map<string, string[]>();
  for (const name of subscribed) {
    if (matches(name)) {
      out.set(name, existing.has(name) ? [] : ['\\Noselect']);
      continue;
    }
    // RFC 3501 §6.3.9: "foo/bar" subscribed, "foo" not, pattern "%": foo is listed \Noselect.
    for (const a of ancestors(name)) if (!subscribed.has(a) && matches(a) && !out.has(a)) out.set(a, ['\\Noselect']);
  }
  for (const name of [...out.keys()].sort(byName)) {
    s.write(listLine(s, 'LSUB', { name, attributes: out.get(name)!, mailbox: null, childInfo: false }));
  }
  return { status: 'OK', text: 'LSUB completed' };
}
