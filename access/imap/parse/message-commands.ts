/**
 * Arguments of the commands on messages (RFC 9051 §6.4), with or without the UID prefix
 * (§6.4.9): FETCH, STORE (with UNCHANGEDSINCE, RFC 7162 §3.1.3), COPY, MOVE (RFC 6851),
 * UID EXPUNGE (RFC 4315 §2.1), SEARCH (with ESEARCH RETURN, RFC 4731), SORT (RFC 5256 §3,
 * ESORT RFC 5267 §3.2) and THREAD (RFC 5256 §3). Each parser starts after the command name.
 */
import type { ImapCommand, SortKey } from '../command.ts';
import { fetchAttributes, fetchModifiers } from './fetch.ts';
import type { Scanner } from './scanner.ts';
import { charset, searchKeys, searchReturn } from './search.ts';
import { sequenceSet } from './sequence-set.ts';

export function fetchCommand(s: Scanner, tag: string, uid: boolean): ImapCommand {
  s.sp();
  const set = sequenceSet(s);
  s.sp();
  const attributes = fetchAttributes(s);
  const { changedSince, vanished } = fetchModifiers(s, uid);
  s.end();
  // Attributes as sent: the handler adds UID to UID FETCH replies (RFC 9051 §6.4.9).
  return { tag, name: 'FETCH', uid, set, attributes, changedSince, vanished };
}

/** STORE SP sequence-set [SP store-modifiers] SP store-att-flags (RFC 9051 §9, RFC 7162 §7). */
export function storeCommand(s: Scanner, tag: string, uid: boolean): ImapCommand {
  s.sp();
  const set = sequenceSet(s);
  s.sp();
  let unchangedSince: number | null = null;
  if (s.peek() === 0x28) {
    s.list(() => {
      const name = s.keyword('a STORE modifier');
      if (name !== 'UNCHANGEDSINCE') s.fail(`Unknown STORE modifier ${name}`);
      s.sp();
      unchangedSince = s.number64('a mod-sequence');
    }, false);
    s.sp();
  }
  const mode = s.accept(0x2b) ? 'add' : s.accept(0x2d) ? 'remove' : 'replace';
  const item = s.keyword('FLAGS');
  if (item !== 'FLAGS' && item !== 'FLAGS.SILENT') s.fail(`Unknown STORE data item ${item}`);
  s.sp();
  let flags: string[];
  if (s.peek() === 0x28) {
    flags = s.flagList();
  } else {
    // store-att-flags also takes flags without parentheses: flag *(SP flag).
    flags = [s.flag()];
    while (s.accept(0x20)) flags.push(s.flag());
  }
  s.end();
  return { tag, name: 'STORE', uid, set, mode, silent: item === 'FLAGS.SILENT', flags, unchangedSince };
}

export function copyCommand(s: Scanner, tag: string, uid: boolean, name: 'COPY' | 'MOVE'): ImapCommand {
  s.sp();
  const set = sequenceSet(s);
  s.sp();
  const mailbox = s.mailbox();
  s.end();
  return { tag, name, uid, set, mailbox };
}

export function expungeCommand(s: Scanner, tag: string, uid: boolean): ImapCommand {
  if (!uid) {
    s.end();
    return { tag, name: 'EXPUNGE', uidSet: null };
  }
  s.sp();
  const uidSet = sequenceSet(s);
  s.end();
  return { tag, name: 'EXPUNGE', uidSet };
}

/** SEARCH [search-return-opts] SP ["CHARSET" SP charset SP] search-key *(SP search-key). */
export function searchCommand(s: Scanner, tag: string, uid: boolean): ImapCommand {
  const returns = searchReturn(s);
  s.sp();
  let cs: string | null = null;
  if (s.acceptWord('CHARSET')) {
    s.sp();
    cs = charset(s);
    s.sp();
  }
  return { tag, name: 'SEARCH', uid, charset: cs, returns, criteria: searchKeys(s) };
}

const SORT_KEYS = new Set<SortKey>(['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO']);

/** SORT [search-return-opts] SP sort-criteria SP charset 1*(SP search-key) (RFC 5256 §5, RFC 5267 §3.2). */
export function sortCommand(s: Scanner, tag: string, uid: boolean): ImapCommand {
  const returns = searchReturn(s);
  s.sp();
  const sort = s.list(() => {
    const reverse = s.acceptWord('REVERSE');
    if (reverse) s.sp();
    const key = s.keyword('a sort key') as SortKey;
    if (!SORT_KEYS.has(key)) s.fail(`Unknown sort key ${key}`);
    return { key, reverse };
  }, false);
  s.sp();
  const cs = charset(s);
  s.sp();
  return { tag, name: 'SORT', uid, sort, charset: cs, returns, criteria: searchKeys(s) };
}

/** THREAD SP thread-alg SP search-criteria (RFC 5256 §5). */
export function threadCommand(s: Scanner, tag: string, uid: boolean): ImapCommand {
  s.sp();
  const algorithm = s.keyword('a thread algorithm');
  if (algorithm !== 'REFERENCES' && algorithm !== 'ORDEREDSUBJECT') s.fail(`Unknown thread algorithm ${algorithm}`);
  s.sp();
  const cs = charset(s);
  s.sp();
  return { tag, name: 'THREAD', uid, algorithm, charset: cs, criteria: searchKeys(s) };
}
