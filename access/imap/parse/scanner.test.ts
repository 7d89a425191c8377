import { describe, expect, it } from 'vitest';
import { ImapParseError } from '../command.ts';
import { Scanner } from './scanner.ts';
import { sequenceSet } from './sequence-set.ts';

const scan = (text: string) => new Scanner(Buffer.from(text, 'utf8'));

describe('Scanner (RFC 9051 §9 basic rules)', () => {
  it('reads atoms up to atom-specials, astrings with "]"', () => {
    const s = scan('ab.c](x');
    expect(s.atom()).toBe('ab.c');
    expect(s.peek()).toBe(0x5d);
    expect(scan('ab.c](x').astring()).toBe('ab.c]');
    expect(() => scan('(x').atom()).toThrow(ImapParseError);
  });
  it('matches words case-insensitively and only whole', () => {
    expect(scan('return (').acceptWord('RETURN')).toBe(true);
    expect(scan('RETURNS').acceptWord('RETURN')).toBe(false);
    expect(scan('RET').acceptWord('RETURN')).toBe(false);
  });
  it('decodes quoted strings and literals as UTF-8', () => {
    expect(scan('"a\\"b\\\\ ü"').string()).toBe('a"b\\ ü');
    expect(scan('{3}\r\nüx').string()).toBe('üx');
    expect(scan('{2+}\r\nab').string()).toBe('ab');
    expect(scan('~{1}\r\n\0').literal(true)).toEqual(Buffer.from([0]));
    expect(() => scan('~{1}\r\n\0').literal(false)).toThrow(ImapParseError);
    expect(() => scan('"a\r\n"').string()).toThrow(ImapParseError);
  });
  it('reads nstring, numbers within their ranges', () => {
    expect(scan('nil').nstring()).toBeNull();
    expect(scan('4294967295').number()).toBe(4294967295);
    expect(() => scan('4294967296').number()).toThrow(/too large/);
    expect(() => scan('0').nzNumber()).toThrow(ImapParseError);
    expect(scan('9007199254740991').number64()).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => scan('9007199254740992').number64()).toThrow(/too large/);
  });
  it('reads flags and flag lists', () => {
    expect(scan('(\\Seen $Junk)').flagList()).toEqual(['\\Seen', '$Junk']);
    expect(scan('\\*').flag(true)).toBe('\\*');
    expect(() => scan('\\*').flag()).toThrow(ImapParseError);
    expect(() => scan('(\\Seen ').flagList()).toThrow(ImapParseError);
  });
  it('normalizes INBOX in any case, and only INBOX', () => {
    expect(scan('inBox').mailbox()).toBe('INBOX');
    expect(scan('"INBOX.x"').mailbox()).toBe('INBOX.x');
  });
  it('carries the tag into its errors', () => {
    const s = scan('(');
    s.tag = 'A7';
    try {
      s.atom();
      expect.unreachable();
    } catch (error) {
      expect((error as ImapParseError).tag).toBe('A7');
    }
  });
});

describe('sequence-set (RFC 9051 §9, RFC 5182)', () => {
  it('reads numbers, ranges, * and $', () => {
    expect(sequenceSet(scan('1,3:*,*:2'))).toEqual({
      kind: 'set',
      ranges: [
        { start: 1, end: 1 },
        { start: 3, end: '*' },
        { start: '*', end: 2 },
      ],
    });
    expect(sequenceSet(scan('$'))).toEqual({ kind: 'saved' });
    for (const bad of ['', '0', '1:', ',1', '1,,2', ':3']) expect(() => sequenceSet(scan(bad)), bad).toThrow(ImapParseError);
  });
});
