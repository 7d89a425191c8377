import { describe, it, expect } from 'vitest';
import { decodeWords, findHeaderEnd, parseAddressList, parseHeaderBlock } from './headers.ts';

describe('findHeaderEnd (RFC 5322 §2.1)', () => {
  it('ends after the blank line, CRLF or bare LF', () => {
    expect(findHeaderEnd(Buffer.from('A: 1\r\nB: 2\r\n\r\nbody'), 0, 18)).toBe(14);
    expect(findHeaderEnd(Buffer.from('A: 1\nB: 2\n\nbody'), 0, 15)).toBe(11);
  });
  it('is the end when there is no blank line, and 0-length when the range starts with one', () => {
    const buf = Buffer.from('A: 1\r\nB: 2');
    expect(findHeaderEnd(buf, 0, buf.length)).toBe(buf.length);
    expect(findHeaderEnd(Buffer.from('\r\nbody'), 0, 6)).toBe(2);
  });
});

describe('parseHeaderBlock', () => {
  it('unfolds values and keeps the raw bytes of each field', () => {
    const buf = Buffer.from('Subject: hello\r\n  world\r\nX-A:b\r\n\r\nbody');
    const fields = parseHeaderBlock(buf);
    expect(fields.map((f) => [f.name, f.value])).toEqual([
      ['Subject', 'hello  world'],
      ['X-A', 'b'],
    ]);
    expect(fields[0].raw.toString()).toBe('Subject: hello\r\n  world\r\n');
  });
  it('reads 8-bit headers as UTF-8, skips lines without a colon and leading continuations', () => {
    const buf = Buffer.from(' stray\nSubject: Grüße\nnot a header\nTo: a@b\n');
    expect(parseHeaderBlock(buf).map((f) => [f.name, f.value])).toEqual([
      ['Subject', 'Grüße'],
      ['To', 'a@b'],
    ]);
  });
  it('handles a last field without a line end', () => {
    const fields = parseHeaderBlock(Buffer.from('A: 1\r\nB: 2'));
    expect(fields[1].value).toBe('2');
    expect(fields[1].raw.toString()).toBe('B: 2');
  });
});

describe('decodeWords (RFC 2047)', () => {
  it('decodes B and Q words and keeps the text around them', () => {
    expect(decodeWords('=?UTF-8?B?SGVsbG8=?= world')).toBe('Hello world');
    expect(decodeWords('Re: =?iso-8859-1?Q?Gr=FC=DFe_aus?= Berlin')).toBe('Re: Grüße aus Berlin');
  });
  it('drops the white space between adjacent words and joins split characters (§6.2)', () => {
    // "€" (E2 82 AC) split across two words
    expect(decodeWords('=?utf-8?Q?a=E2=82?=  \r\n =?utf-8?Q?=AC_b?=')).toBe('a€ b');
    expect(decodeWords('=?utf-8?B?w6k=?= =?iso-8859-1?Q?=E9?=')).toBe('éé');
  });
  it('handles charsets with a language, other charsets, unknown charsets and malformed words', () => {
    expect(decodeWords('=?UTF-8*en?Q?hi?=')).toBe('hi');
    expect(decodeWords('=?koi8-r?B?8NLJ18XU?=')).toBe('Привет');
    expect(decodeWords('=?x-unknown?Q?abc?=')).toBe('abc');
    expect(decodeWords('=?utf-8?X?abc?= plain')).toBe('=?utf-8?X?abc?= plain');
  });
});

describe('parseAddressList (RFC 5322 §3.4)', () => {
  it('parses name-addr and addr-spec with quoted names and comments', () => {
    expect(parseAddressList('"Doe, John" <john@example.com>, jane@example.org (Jane Roe)')).toEqual([
      { kind: 'mailbox', name: 'Doe, John', adl: null, mailbox: 'john', host: 'example.com' },
      { kind: 'mailbox', name: 'Jane Roe', adl: null, mailbox: 'jane', host: 'example.org' },
    ]);
    expect(parseAddressList('John  Q. Public <jqp@x.test>')[0]).toMatchObject({ name: 'John Q. Public', mailbox: 'jqp' });
  });
  it('parses groups, empty groups and routes', () => {
    expect(parseAddressList('Friends: a@x.test, B <b@y.test>;, undisclosed-recipients:;')).toEqual([
      {
        kind: 'group',
        name: 'Friends',
        members: [
          { kind: 'mailbox', name: null, adl: null, mailbox: 'a', host: 'x.test' },
          { kind: 'mailbox', name: 'B', adl: null, mailbox: 'b', host: 'y.test' },
        ],
      },
      { kind: 'group', name: 'undisclosed-recipients', members: [] },
    ]);
    expect(parseAddressList('<@relay.test,@r2.test:user@host.test>')[0]).toMatchObject({ adl: '@relay.test,@r2.test', mailbox: 'user', host: 'host.test' });
  });
  it('fills in missing parts and passes UTF-8 through (RFC 6532)', () => {
    expect(parseAddressList('alice')[0]).toMatchObject({ mailbox: 'alice', host: 'MISSING_DOMAIN' });
    expect(parseAddressList('Bob <@x.test>')[0]).toMatchObject({ mailbox: 'MISSING_MAILBOX', host: 'x.test' });
    expect(parseAddressList('Jürgen <jürgen@bücher.example>')[0]).toMatchObject({ name: 'Jürgen', mailbox: 'jürgen', host: 'bücher.example' });
    expect(parseAddressList('"quoted \\"x\\"" <"a b"@c.test>')[0]).toMatchObject({ name: 'quoted "x"', mailbox: 'a b' });
  });
  it('survives garbage', () => {
    expect(parseAddressList('')).toEqual([]);
    expect(parseAddressList(',,;;>>')).toEqual([]);
    expect(() => parseAddressList('"unterminated <a@b (comment <<: ;')).not.toThrow();
  });
});
