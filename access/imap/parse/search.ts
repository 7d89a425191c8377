/**
 * SEARCH keys and options (RFC 9051 §6.4.4 and §9 search-key; IMAP4rev1's NEW/OLD/RECENT,
 * RFC 3501 §6.4.4; MODSEQ RFC 7162 §3.1.5; RETURN RFC 4731 §3.1 and SAVE RFC 5182 §2.2),
 * shared by SEARCH, SORT (RFC 5256 §3) and THREAD.
 */
import type { SearchKey, SearchReturn } from '../command.ts';
import { searchDate } from './dates.ts';
import type { Scanner } from './scanner.ts';
import { sequenceSet, startsSequenceSet } from './sequence-set.ts';

/** Nesting of parentheses, NOT and OR, bounded so a hostile command cannot exhaust the stack. */
export const MAX_SEARCH_DEPTH = 100;

const FLAG_KEYS: Readonly<Record<string, readonly [string, boolean]>> = {
  ANSWERED: ['\\Answered', true],
  UNANSWERED: ['\\Answered', false],
  DELETED: ['\\Deleted', true],
  UNDELETED: ['\\Deleted', false],
  DRAFT: ['\\Draft', true],
  UNDRAFT: ['\\Draft', false],
  FLAGGED: ['\\Flagged', true],
  UNFLAGGED: ['\\Flagged', false],
  SEEN: ['\\Seen', true],
  UNSEEN: ['\\Seen', false],
  RECENT: ['\\Recent', true],
  OLD: ['\\Recent', false],
};

const HEADER_KEYS: Readonly<Record<string, string>> = { FROM: 'From', TO: 'To', CC: 'Cc', BCC: 'Bcc', SUBJECT: 'Subject' };

const DATE_KEYS: Readonly<Record<string, readonly ['internal' | 'sent', 'before' | 'on' | 'since']>> = {
  BEFORE: ['internal', 'before'],
  ON: ['internal', 'on'],
  SINCE: ['internal', 'since'],
  SENTBEFORE: ['sent', 'before'],
  SENTON: ['sent', 'on'],
  SENTSINCE: ['sent', 'since'],
};

function searchKey(s: Scanner, depth: number): SearchKey {
  if (depth > MAX_SEARCH_DEPTH) s.fail('Search keys are nested too deeply');
  if (startsSequenceSet(s)) return { kind: 'seq', set: sequenceSet(s) };
  if (s.peek() === 0x28) {
    const keys = s.list(() => searchKey(s, depth + 1), false);
    return keys.length === 1 ? keys[0] : { kind: 'and', keys };
  }
  const name = s.keyword('a search key');
  const flag = FLAG_KEYS[name];
  if (flag) return { kind: 'flag', flag: flag[0], set: flag[1] };
  const field = HEADER_KEYS[name];
  if (field) {
    s.sp();
    return { kind: 'header', field, value: s.astring() };
  }
  const date = DATE_KEYS[name];
  if (date) {
    s.sp();
    return { kind: 'date', which: date[0], op: date[1], date: searchDate(s) };
  }
  switch (name) {
    case 'ALL':
      return { kind: 'all' };
    case 'NEW': // RFC 3501 §6.4.4: RECENT UNSEEN
      return {
        kind: 'and',
        keys: [
          { kind: 'flag', flag: '\\Recent', set: true },
          { kind: 'flag', flag: '\\Seen', set: false },
        ],
      };
    case 'KEYWORD':
    case 'UNKEYWORD':
      s.sp();
      return { kind: 'flag', flag: s.atom('a keyword'), set: name === 'KEYWORD' };
    case 'HEADER': {
      s.sp();
      const fieldName = s.astring('a header field name');
      s.sp();
      return { kind: 'header', field: fieldName, value: s.astring() };
    }
    case 'BODY':
    case 'TEXT':
      s.sp();
      return { kind: name === 'BODY' ? 'body' : 'text', value: s.astring() };
    case 'LARGER':
    case 'SMALLER':
      s.sp();
      return { kind: 'size', op: name === 'LARGER' ? 'larger' : 'smaller', size: s.number64('a size') };
    case 'UID':
      s.sp();
      return { kind: 'uid', set: sequenceSet(s) };
    case 'NOT':
      s.sp();
      return { kind: 'not', key: searchKey(s, depth + 1) };
    case 'OR': {
      s.sp();
      const left = searchKey(s, depth + 1);
      s.sp();
      return { kind: 'or', left, right: searchKey(s, depth + 1) };
    }
    case 'MODSEQ': {
      // RFC 7162 §3.1.5: MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer.
      s.sp();
      if (s.peek() === 0x22) {
        s.quoted();
        s.sp();
        const type = s.keyword('an entry type');
        if (type !== 'PRIV' && type !== 'SHARED' && type !== 'ALL') s.fail('Invalid MODSEQ entry type');
        s.sp();
      }
      return { kind: 'modseq', modseq: s.number64('a mod-sequence') };
    }
    default:
      return s.fail(`Unknown search key ${name}`);
  }
}

/** 1*(SP search-key), after the caller's SP: one key is itself, more are an `and`. */
export function searchKeys(s: Scanner): SearchKey {
  const keys = [searchKey(s, 0)];
  while (s.accept(0x20)) keys.push(searchKey(s, 0));
  s.end();
  return keys.length === 1 ? keys[0] : { kind: 'and', keys };
}

const RETURN_OPTIONS = new Set(['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE']);

/**
 * [SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"] (RFC 4731 §3.1); an empty
 * list means ALL. Expects to be after the command name; consumes the SP that follows.
 */
export function searchReturn(s: Scanner): SearchReturn {
  const save = s.pos;
  if (!s.accept(0x20) || !s.acceptWord('RETURN')) {
    s.pos = save;
    return null;
  }
  s.sp();
  const options = s.list(() => {
    const option = s.keyword('a RETURN option');
    if (!RETURN_OPTIONS.has(option)) s.fail(`Unknown RETURN option ${option}`);
    return option as 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE';
  });
  return options.length === 0 ? ['ALL'] : [...new Set(options)];
}

/** charset = atom / quoted (RFC 9051 §9), upper-cased. */
export function charset(s: Scanner): string {
  return (s.peek() === 0x22 ? s.quoted() : s.atom('a charset')).toUpperCase();
}
