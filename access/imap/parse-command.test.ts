import { describe, expect, it } from 'vitest';
import { ImapParseError } from './command.ts';
import type { ImapCommand, SearchKey } from './command.ts';
import { parseCommand } from './parse-command.ts';

const parse = (line: string): ImapCommand => parseCommand(Buffer.from(line, 'utf8'));

function bad(line: string): ImapParseError {
  try {
    parse(line);
  } catch (error) {
    expect(error).toBeInstanceOf(ImapParseError);
    return error as ImapParseError;
  }
  throw new Error(`parsed: ${line}`);
}

const set = (...ranges: Array<[number | '*', number | '*']>) => ({ kind: 'set', ranges: ranges.map(([start, end]) => ({ start, end })) });

describe('tags and command names (RFC 9051 §9)', () => {
  it('takes any ASTRING-CHAR but "+" in tags, command names in any case', () => {
    expect(parse('a.1]x noop')).toEqual({ tag: 'a.1]x', name: 'NOOP' });
    for (const name of ['CAPABILITY', 'LOGOUT', 'STARTTLS', 'NAMESPACE', 'IDLE', 'CHECK', 'CLOSE', 'UNSELECT']) {
      expect(parse(`t ${name.toLowerCase()}`)).toEqual({ tag: 't', name });
    }
  });
  it('refuses bad tags with no tag, and bad commands with their tag', () => {
    expect(bad('+ NOOP').tag).toBeNull();
    expect(bad('a+b NOOP').tag).toBeNull();
    expect(bad('a(b NOOP').tag).toBeNull();
    expect(bad('').tag).toBeNull();
    expect(bad('a1').tag).toBe('a1');
    expect(bad('a1 FROB').tag).toBe('a1');
    expect(bad('a1 FROB').message).toMatch(/Unknown command FROB/);
    expect(bad('a1 NOOP x').tag).toBe('a1');
    expect(bad('a1  NOOP').tag).toBe('a1');
    expect(bad('a1 UID NOOP').tag).toBe('a1');
  });
});

describe('strings: atom, quoted, literal (RFC 9051 §4.3, RFC 7888)', () => {
  it('reads LOGIN arguments in all three forms', () => {
    expect(parse('a LOGIN alice "p a\\"ss\\\\"')).toEqual({ tag: 'a', name: 'LOGIN', user: 'alice', password: 'p a"ss\\' });
    expect(parse('a LOGIN {5}\r\nalice {3+}\r\n{}"')).toEqual({ tag: 'a', name: 'LOGIN', user: 'alice', password: '{}"' });
    expect(parse('a LOGIN {5}\nalice x')).toMatchObject({ user: 'alice', password: 'x' });
    expect(parse('a LOGIN "Grüße" x')).toMatchObject({ user: 'Grüße' });
  });
  it('refuses broken strings', () => {
    bad('a LOGIN "unterminated x');
    bad('a LOGIN "bad \\x escape" x');
    bad('a LOGIN {10}\r\nshort');
    bad('a LOGIN {x}\r\nabc y');
    bad('a LOGIN ~{3}\r\nabc y'); // literal8 only in APPEND
    bad('a LOGIN alice');
    bad('a LOGIN alice (x)');
  });
});

describe('AUTHENTICATE, ENABLE, ID, COMPRESS', () => {
  it('AUTHENTICATE with and without SASL-IR (RFC 4959 §7)', () => {
    expect(parse('a AUTHENTICATE plain')).toEqual({ tag: 'a', name: 'AUTHENTICATE', mechanism: 'PLAIN', initialResponse: null });
    expect(parse('a AUTHENTICATE PLAIN AGFsaWNlAHB3ZA==')).toMatchObject({ initialResponse: 'AGFsaWNlAHB3ZA==' });
    expect(parse('a AUTHENTICATE PLAIN =')).toMatchObject({ initialResponse: '=' });
    bad('a AUTHENTICATE PLAIN abc=d');
    bad('a AUTHENTICATE PLAIN a*b');
    bad('a AUTHENTICATE');
  });
  it('ENABLE (RFC 5161 §3.1)', () => {
    expect(parse('a ENABLE condstore qresync')).toEqual({ tag: 'a', name: 'ENABLE', capabilities: ['CONDSTORE', 'QRESYNC'] });
    bad('a ENABLE');
  });
  it('ID (RFC 2971 §3.1)', () => {
    expect(parse('a ID NIL')).toEqual({ tag: 'a', name: 'ID', params: null });
    expect(parse('a ID ("name" "mutt" "version" NIL)')).toEqual({ tag: 'a', name: 'ID', params: { name: 'mutt', version: null } });
    bad('a ID ("name")');
    bad('a ID');
  });
  it('COMPRESS (RFC 4978 §3)', () => {
    expect(parse('a COMPRESS deflate')).toEqual({ tag: 'a', name: 'COMPRESS', mechanism: 'DEFLATE' });
  });
});

describe('mailbox commands (RFC 9051 §6.3)', () => {
  it('SELECT / EXAMINE with CONDSTORE and QRESYNC (RFC 7162 §3.1.8, §3.2.5)', () => {
    expect(parse('a select inbox')).toEqual({ tag: 'a', name: 'SELECT', mailbox: 'INBOX', condstore: false, qresync: null });
    expect(parse('a EXAMINE "Sent" (CONDSTORE)')).toMatchObject({ name: 'EXAMINE', mailbox: 'Sent', condstore: true });
    expect(parse('a SELECT x (QRESYNC (67890007 2005071519404500))')).toMatchObject({
      qresync: { uidValidity: 67890007, modseq: 2005071519404500, knownUids: null, seqMatch: null },
    });
    // Mod-sequences beyond 2^53-1 cannot be ours: BAD rather than a rounded number.
    expect(bad('a SELECT x (QRESYNC (67890007 20050715194045000))').message).toMatch(/too large/);
    expect(parse('a SELECT x (QRESYNC (1 2 41,43:211 (1:3,5 4:6,8)))')).toMatchObject({
      qresync: { knownUids: set([41, 41], [43, 211]), seqMatch: { seqs: set([1, 3], [5, 5]), uids: set([4, 6], [8, 8]) } },
    });
    expect(parse('a SELECT x (QRESYNC (1 2 (1 4)))')).toMatchObject({ qresync: { knownUids: null, seqMatch: { seqs: set([1, 1]) } } });
    bad('a SELECT x (FOO)');
    bad('a SELECT x (QRESYNC (0 2))');
    bad('a SELECT x (QRESYNC (1 2 $))');
  });
  it('CREATE with USE (RFC 6154 §3), DELETE, RENAME, (UN)SUBSCRIBE', () => {
    expect(parse('a CREATE Archive (USE (\\Archive))')).toEqual({ tag: 'a', name: 'CREATE', mailbox: 'Archive', specialUse: ['\\Archive'] });
    expect(parse('a CREATE "a/b"')).toEqual({ tag: 'a', name: 'CREATE', mailbox: 'a/b', specialUse: [] });
    expect(parse('a DELETE x')).toEqual({ tag: 'a', name: 'DELETE', mailbox: 'x' });
    expect(parse('a SUBSCRIBE x')).toEqual({ tag: 'a', name: 'SUBSCRIBE', mailbox: 'x' });
    expect(parse('a UNSUBSCRIBE x')).toEqual({ tag: 'a', name: 'UNSUBSCRIBE', mailbox: 'x' });
    expect(parse('a RENAME x "y z"')).toEqual({ tag: 'a', name: 'RENAME', from: 'x', to: 'y z' });
    bad('a CREATE x (FOO (\\Archive))');
    bad('a RENAME x');
  });
  it('LIST basic and extended (RFC 5258, RFC 5819, RFC 6154)', () => {
    expect(parse('a LIST "" *')).toEqual({
      tag: 'a', name: 'LIST', reference: '', patterns: ['*'], selection: [], returns: { options: [], status: null }, extended: false,
    });
    expect(parse('a LIST ~/Mail/ %/a]b')).toMatchObject({ reference: '~/Mail/', patterns: ['%/a]b'] });
    expect(parse('a LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))')).toEqual({
      tag: 'a', name: 'LIST', reference: '', patterns: ['*'], selection: ['SUBSCRIBED'],
      returns: { options: ['CHILDREN', 'SPECIAL-USE'], status: ['MESSAGES', 'UNSEEN'] }, extended: true,
    });
    expect(parse('a LIST "" ("a" "b")')).toMatchObject({ patterns: ['a', 'b'], extended: true });
    expect(parse('a LIST "" ""')).toMatchObject({ reference: '', patterns: [''] }); // the delimiter query, RFC 9051 §6.3.9
    expect(parse('a LIST "" {4}\r\nA%/*')).toMatchObject({ patterns: ['A%/*'] });
    expect(parse('a LIST () "" x RETURN ()')).toMatchObject({ selection: [], extended: true });
    expect(parse('a list (subscribed recursivematch) "" %')).toMatchObject({ selection: ['SUBSCRIBED', 'RECURSIVEMATCH'] });
    bad('a LIST (RECURSIVEMATCH) "" %');
    bad('a LIST (BOGUS) "" %');
    bad('a LIST "" % RETURN (BOGUS)');
    bad('a LIST "" % RETURN (STATUS (BOGUS))');
    bad('a LIST ""');
  });
  it('LSUB, STATUS', () => {
    expect(parse('a LSUB "" *')).toEqual({ tag: 'a', name: 'LSUB', reference: '', pattern: '*' });
    expect(parse('a STATUS inbox (messages uidnext SIZE highestmodseq)')).toEqual({
      tag: 'a', name: 'STATUS', mailbox: 'INBOX', items: ['MESSAGES', 'UIDNEXT', 'SIZE', 'HIGHESTMODSEQ'],
    });
    bad('a STATUS x ()');
    bad('a STATUS x (BOGUS)');
  });
  it('APPEND with flags, date-time and each literal kind (RFC 9051 §6.3.12, RFC 3516 §4.4)', () => {
    const cmd = parse('a APPEND Sent (\\Seen $Forwarded) "17-Jul-1996 02:44:25 -0700" {5}\r\nhello');
    expect(cmd).toMatchObject({ name: 'APPEND', mailbox: 'Sent', message: { flags: ['\\Seen', '$Forwarded'], internalDate: Date.UTC(1996, 6, 17, 9, 44, 25) } });
    expect(cmd.name === 'APPEND' && cmd.message.literal.toString()).toBe('hello');
    expect(parse('a APPEND x {3+}\r\nabc')).toMatchObject({ message: { flags: [], internalDate: null } });
    expect(parse('a APPEND x " 7-Feb-2024 23:59:59 +0530" ~{2}\r\n\0\0')).toMatchObject({ message: { internalDate: Date.UTC(2024, 1, 7, 18, 29, 59) } });
    expect(parse('a APPEND x () {0}\r\n')).toMatchObject({ message: { flags: [] } });
    bad('a APPEND x "31-Feb-2024 00:00:00 +0000" {1}\r\na');
    bad('a APPEND x "1-Feb-2024 24:00:00 +0000" {1}\r\na');
    bad('a APPEND x "1-Feb-2024 00:00:00 0000" {1}\r\na');
    bad('a APPEND x hello');
    bad('a APPEND x {1}\r\nab');
  });
  it('QUOTA (RFC 9208 §4)', () => {
    expect(parse('a GETQUOTA ""')).toEqual({ tag: 'a', name: 'GETQUOTA', root: '' });
    expect(parse('a GETQUOTAROOT INBOX')).toEqual({ tag: 'a', name: 'GETQUOTAROOT', mailbox: 'INBOX' });
    expect(parse('a SETQUOTA "" (STORAGE 512 message 1000)')).toEqual({ tag: 'a', name: 'SETQUOTA', root: '', limits: { STORAGE: 512, MESSAGE: 1000 } });
    bad('a SETQUOTA "" (STORAGE)');
  });
});

describe('FETCH (RFC 9051 §6.4.5)', () => {
  const attrs = (line: string) => {
    const cmd = parse(line);
    if (cmd.name !== 'FETCH') throw new Error('not FETCH');
    return cmd.attributes;
  };
  it('expands the macros', () => {
    expect(attrs('a FETCH 1 FAST').map((a) => a.kind)).toEqual(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
    expect(attrs('a FETCH 1 all').map((a) => a.kind)).toEqual(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']);
    expect(attrs('a FETCH 1 FULL').map((a) => a.kind)).toEqual(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']);
    bad('a FETCH 1 (ALL)');
  });
  it('reads sequence sets with *, ranges and $ (RFC 5182)', () => {
    expect(parse('a FETCH 1:*,3,5:2 UID')).toMatchObject({ set: set([1, '*'], [3, 3], [5, 2]) });
    expect(parse('a FETCH $ UID')).toMatchObject({ set: { kind: 'saved' } });
    bad('a FETCH 0 UID');
    bad('a FETCH 1, UID');
    bad('a FETCH $,1 UID');
    bad('a FETCH 99999999999 UID');
  });
  it('reads simple items', () => {
    expect(attrs('a FETCH 1 (uid flags INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE MODSEQ BODY RFC822 RFC822.HEADER RFC822.TEXT)').map((a) => a.kind)).toEqual([
      'UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'MODSEQ', 'BODY', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT',
    ]);
    bad('a FETCH 1 (FLAGS BOGUS)');
    bad('a FETCH 1 ()');
  });
  it('reads BODY[section]<partial> and BODY.PEEK', () => {
    expect(attrs('a FETCH 1 BODY[]')).toEqual([{ kind: 'BODY[]', peek: false, section: { part: [], text: null, fields: [] }, partial: null }]);
    expect(attrs('a FETCH 1 body.peek[1.2.HEADER.FIELDS.NOT (Received "X-Spam")]<10.2048>')).toEqual([
      { kind: 'BODY[]', peek: true, section: { part: [1, 2], text: 'HEADER.FIELDS.NOT', fields: ['Received', 'X-Spam'] }, partial: { offset: 10, length: 2048 } },
    ]);
    expect(attrs('a FETCH 1 (BODY[3.MIME] BODY[TEXT] BODY[2] BODY[HEADER])').map((a) => a.kind === 'BODY[]' && a.section)).toEqual([
      { part: [3], text: 'MIME', fields: [] },
      { part: [], text: 'TEXT', fields: [] },
      { part: [2], text: null, fields: [] },
      { part: [], text: 'HEADER', fields: [] },
    ]);
    bad('a FETCH 1 BODY[MIME]');
    bad('a FETCH 1 BODY[1.BOGUS]');
    bad('a FETCH 1 BODY[HEADER.FIELDS ()]');
    bad('a FETCH 1 BODY[]<1.0>');
    bad('a FETCH 1 BODY[0]');
    bad('a FETCH 1 BODY.PEEK');
  });
  it('reads BINARY, BINARY.PEEK and BINARY.SIZE (RFC 3516 §4.3)', () => {
    expect(attrs('a FETCH 1 (BINARY[1] BINARY.PEEK[]<0.10> BINARY.SIZE[2.1])')).toEqual([
      { kind: 'BINARY[]', peek: false, part: [1], partial: null },
      { kind: 'BINARY[]', peek: true, part: [], partial: { offset: 0, length: 10 } },
      { kind: 'BINARY.SIZE', part: [2, 1] },
    ]);
    bad('a FETCH 1 BINARY[TEXT]');
    bad('a FETCH 1 BINARY.SIZE');
  });
  it('reads CHANGEDSINCE and VANISHED (RFC 7162 §3.1.4, §3.2.6)', () => {
    expect(parse('a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)')).toMatchObject({ uid: true, changedSince: 12345, vanished: true });
    expect(parse('a FETCH 1:* FLAGS (CHANGEDSINCE 7)')).toMatchObject({ uid: false, changedSince: 7, vanished: false });
    bad('a FETCH 1:* FLAGS (CHANGEDSINCE 7 VANISHED)');
    bad('a UID FETCH 1:* FLAGS (VANISHED)');
    bad('a UID FETCH 1:* FLAGS (BOGUS)');
  });
});

describe('STORE, COPY, MOVE, EXPUNGE (RFC 9051 §6.4.6–§6.4.9)', () => {
  it('reads the three modes, .SILENT and UNCHANGEDSINCE (RFC 7162 §3.1.3)', () => {
    expect(parse('a STORE 1:3 +FLAGS.SILENT (\\Deleted)')).toEqual({
      tag: 'a', name: 'STORE', uid: false, set: set([1, 3]), mode: 'add', silent: true, flags: ['\\Deleted'], unchangedSince: null,
    });
    expect(parse('a UID STORE 5 (UNCHANGEDSINCE 320162338) -flags ($Junk)')).toMatchObject({ uid: true, mode: 'remove', silent: false, flags: ['$Junk'], unchangedSince: 320162338 });
    expect(parse('a STORE 2 FLAGS ()')).toMatchObject({ mode: 'replace', flags: [] });
    expect(parse('a STORE 2 +FLAGS \\Seen \\Flagged')).toMatchObject({ flags: ['\\Seen', '\\Flagged'] });
    bad('a STORE 2 +BOGUS (\\Seen)');
    bad('a STORE 2 +FLAGS (\\Seen');
    bad('a STORE 2 (FOO 1) +FLAGS (\\Seen)');
    bad('a STORE 2 +FLAGS (\\*)');
  });
  it('reads COPY, MOVE and EXPUNGE with and without UID', () => {
    expect(parse('a UID COPY 1:2 "Archive"')).toEqual({ tag: 'a', name: 'COPY', uid: true, set: set([1, 2]), mailbox: 'Archive' });
    expect(parse('a MOVE $ inbox')).toEqual({ tag: 'a', name: 'MOVE', uid: false, set: { kind: 'saved' }, mailbox: 'INBOX' });
    expect(parse('a EXPUNGE')).toEqual({ tag: 'a', name: 'EXPUNGE', uidSet: null });
    expect(parse('a uid expunge 3:5')).toEqual({ tag: 'a', name: 'EXPUNGE', uidSet: set([3, 5]) });
    bad('a EXPUNGE 3:5');
    bad('a UID EXPUNGE');
  });
});

describe('SEARCH (RFC 9051 §6.4.4)', () => {
  const criteria = (keys: string): SearchKey => {
    const cmd = parse(`a SEARCH ${keys}`);
    if (cmd.name !== 'SEARCH') throw new Error('not SEARCH');
    return cmd.criteria;
  };
  it('maps flag keys, including IMAP4rev1 NEW/OLD/RECENT', () => {
    expect(criteria('SEEN')).toEqual({ kind: 'flag', flag: '\\Seen', set: true });
    expect(criteria('unanswered')).toEqual({ kind: 'flag', flag: '\\Answered', set: false });
    expect(criteria('RECENT')).toEqual({ kind: 'flag', flag: '\\Recent', set: true });
    expect(criteria('OLD')).toEqual({ kind: 'flag', flag: '\\Recent', set: false });
    expect(criteria('NEW')).toEqual({ kind: 'and', keys: [{ kind: 'flag', flag: '\\Recent', set: true }, { kind: 'flag', flag: '\\Seen', set: false }] });
    expect(criteria('KEYWORD $Junk')).toEqual({ kind: 'flag', flag: '$Junk', set: true });
    expect(criteria('UNKEYWORD foo')).toEqual({ kind: 'flag', flag: 'foo', set: false });
    for (const [k, f] of [['DELETED', '\\Deleted'], ['DRAFT', '\\Draft'], ['FLAGGED', '\\Flagged']]) {
      expect(criteria(k)).toEqual({ kind: 'flag', flag: f, set: true });
      expect(criteria(`UN${k}`)).toEqual({ kind: 'flag', flag: f, set: false });
    }
  });
  it('maps header, text, date, size, uid, sequence and modseq keys', () => {
    expect(criteria('FROM alice')).toEqual({ kind: 'header', field: 'From', value: 'alice' });
    expect(criteria('to "b c"')).toEqual({ kind: 'header', field: 'To', value: 'b c' });
    expect(criteria('CC x')).toMatchObject({ field: 'Cc' });
    expect(criteria('BCC x')).toMatchObject({ field: 'Bcc' });
    expect(criteria('SUBJECT {3}\r\nhi!')).toEqual({ kind: 'header', field: 'Subject', value: 'hi!' });
    expect(criteria('HEADER Message-ID "<x@y>"')).toEqual({ kind: 'header', field: 'Message-ID', value: '<x@y>' });
    expect(criteria('TEXT foo')).toEqual({ kind: 'text', value: 'foo' });
    expect(criteria('BODY foo')).toEqual({ kind: 'body', value: 'foo' });
    expect(criteria('SINCE 1-Feb-1994')).toEqual({ kind: 'date', which: 'internal', op: 'since', date: '1994-02-01' });
    expect(criteria('BEFORE "29-feb-2024"')).toMatchObject({ op: 'before', date: '2024-02-29' });
    expect(criteria('ON 01-Dec-2020')).toMatchObject({ op: 'on', date: '2020-12-01' });
    expect(criteria('SENTSINCE 1-Jan-2000')).toMatchObject({ which: 'sent', op: 'since' });
    expect(criteria('SENTBEFORE 1-Jan-2000')).toMatchObject({ which: 'sent', op: 'before' });
    expect(criteria('SENTON 1-Jan-2000')).toMatchObject({ which: 'sent', op: 'on' });
    expect(criteria('LARGER 1000')).toEqual({ kind: 'size', op: 'larger', size: 1000 });
    expect(criteria('SMALLER 5')).toEqual({ kind: 'size', op: 'smaller', size: 5 });
    expect(criteria('UID 1:*')).toEqual({ kind: 'uid', set: set([1, '*']) });
    expect(criteria('2,4:*')).toEqual({ kind: 'seq', set: set([2, 2], [4, '*']) });
    expect(criteria('$')).toEqual({ kind: 'seq', set: { kind: 'saved' } });
    expect(criteria('MODSEQ 620162338')).toEqual({ kind: 'modseq', modseq: 620162338 });
    expect(criteria('MODSEQ "/flags/\\\\draft" all 620162338')).toEqual({ kind: 'modseq', modseq: 620162338 });
    expect(criteria('ALL')).toEqual({ kind: 'all' });
    bad('a SEARCH SINCE 30-Feb-2024');
    bad('a SEARCH SINCE 1-Foo-2024');
    bad('a SEARCH SINCE 1-Feb-24');
    bad('a SEARCH MODSEQ "x" bogus 5');
  });
  it('combines keys: implicit AND, parentheses, OR, NOT', () => {
    expect(criteria('OR (SEEN FLAGGED) NOT DELETED UID 5')).toEqual({
      kind: 'and',
      keys: [
        {
          kind: 'or',
          left: { kind: 'and', keys: [{ kind: 'flag', flag: '\\Seen', set: true }, { kind: 'flag', flag: '\\Flagged', set: true }] },
          right: { kind: 'not', key: { kind: 'flag', flag: '\\Deleted', set: true } },
        },
        { kind: 'uid', set: set([5, 5]) },
      ],
    });
    expect(criteria('((SEEN))')).toEqual({ kind: 'flag', flag: '\\Seen', set: true });
    bad('a SEARCH OR SEEN');
    bad('a SEARCH ()');
    bad('a SEARCH (SEEN');
    bad('a SEARCH BOGUS');
    bad('a SEARCH');
    bad('a SEARCH SEEN ');
  });
  it('caps the nesting depth', () => {
    expect(criteria(`${'('.repeat(50)}SEEN${')'.repeat(50)}`)).toEqual({ kind: 'flag', flag: '\\Seen', set: true });
    expect(bad(`a SEARCH ${'NOT '.repeat(200)}SEEN`).message).toMatch(/nested too deeply/);
    expect(bad(`a SEARCH ${'('.repeat(100_000)}`).message).toMatch(/nested too deeply/);
  });
  it('reads CHARSET and RETURN (RFC 4731 §3.1, RFC 5182 §2.2)', () => {
    expect(parse('a UID SEARCH CHARSET utf-8 TEXT "ä"')).toMatchObject({ uid: true, charset: 'UTF-8', returns: null, criteria: { kind: 'text', value: 'ä' } });
    expect(parse('a SEARCH RETURN () ALL')).toMatchObject({ returns: ['ALL'], charset: null });
    expect(parse('a SEARCH RETURN (min MAX COUNT SAVE) CHARSET "US-ASCII" ALL')).toMatchObject({ returns: ['MIN', 'MAX', 'COUNT', 'SAVE'], charset: 'US-ASCII' });
    bad('a SEARCH RETURN (BOGUS) ALL');
    bad('a SEARCH CHARSET ALL');
  });
});

describe('SORT and THREAD (RFC 5256, RFC 5267)', () => {
  it('reads SORT criteria, charset and RETURN', () => {
    expect(parse('a UID SORT (REVERSE DATE subject) UTF-8 ALL')).toEqual({
      tag: 'a', name: 'SORT', uid: true, sort: [{ key: 'DATE', reverse: true }, { key: 'SUBJECT', reverse: false }], charset: 'UTF-8', returns: null, criteria: { kind: 'all' },
    });
    expect(parse('a SORT RETURN (COUNT) (ARRIVAL) US-ASCII SEEN FROM x')).toMatchObject({ returns: ['COUNT'], criteria: { kind: 'and' } });
    bad('a SORT () UTF-8 ALL');
    bad('a SORT (BOGUS) UTF-8 ALL');
    bad('a SORT (DATE) ALL');
  });
  it('reads THREAD algorithms', () => {
    expect(parse('a THREAD references UTF-8 SINCE 5-MAR-2000')).toEqual({
      tag: 'a', name: 'THREAD', uid: false, algorithm: 'REFERENCES', charset: 'UTF-8', criteria: { kind: 'date', which: 'internal', op: 'since', date: '2000-03-05' },
    });
    expect(parse('a UID THREAD ORDEREDSUBJECT UTF-8 ALL')).toMatchObject({ uid: true, algorithm: 'ORDEREDSUBJECT' });
    bad('a THREAD REFS UTF-8 ALL');
  });
});

describe('speed', () => {
  it('parses thousands of STOREs and FETCHes quickly', () => {
    const store = Buffer.from('a123 UID STORE 1:5000 +FLAGS.SILENT (\\Seen)');
    const fetch = Buffer.from('a124 UID FETCH 1:* (UID FLAGS ENVELOPE BODY.PEEK[HEADER.FIELDS (From To Subject Date)]) (CHANGEDSINCE 1)');
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) {
      parseCommand(store);
      parseCommand(fetch);
    }
    expect(performance.now() - started).toBeLessThan(3000);
  });
  it('reads a 20 MB APPEND literal without copying it', () => {
    const body = Buffer.alloc(20 << 20, 0x61);
    const data = Buffer.concat([Buffer.from(`a APPEND INBOX {${body.length}}\r\n`), body]);
    const cmd = parseCommand(data);
    expect(cmd.name === 'APPEND' && cmd.message.literal.buffer).toBe(data.buffer);
  });
});
