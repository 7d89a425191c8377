import { describe, expect, it } from 'vitest';
import { atom } from './data.ts';
import { encodeValue, formatInternalDate, formatSequenceSet, literal8, quoteString, ResponseBuilder } from './encode.ts';

const text = (b: Buffer) => b.toString('utf8');

describe('encodeValue (RFC 9051 §4)', () => {
  it('writes NIL, numbers and atoms', () => {
    expect(text(encodeValue(null))).toBe('NIL');
    expect(text(encodeValue(4294967295))).toBe('4294967295');
    expect(text(encodeValue(atom('\\Seen')))).toBe('\\Seen');
    expect(() => encodeValue(-1)).toThrow(RangeError);
    expect(() => encodeValue(1.5)).toThrow(RangeError);
  });

  it('quotes short printable strings, escaping \\ and " (RFC 9051 §4.3)', () => {
    expect(text(encodeValue('hello world'))).toBe('"hello world"');
    expect(text(encodeValue(''))).toBe('""');
    expect(text(encodeValue('a"b\\c'))).toBe('"a\\"b\\\\c"');
  });

  it('sends CR, LF, controls and long strings as literals', () => {
    expect(text(encodeValue('a\r\nb'))).toBe('{4}\r\na\r\nb');
    expect(text(encodeValue('tab\there'))).toBe('{8}\r\ntab\there');
    const long = 'x'.repeat(2000);
    expect(text(encodeValue(long))).toBe(`{2000}\r\n${long}`);
  });

  it('sends UTF-8 as a literal unless utf8 quoting is allowed (RFC 9051 §4.3)', () => {
    expect(text(encodeValue('Grüße'))).toBe('{7}\r\nGrüße');
    expect(text(encodeValue('Grüße', { utf8: true }))).toBe('"Grüße"');
    expect(text(encodeValue('😀', { utf8: true }))).toBe('"😀"');
    expect(text(encodeValue('\ud800x', { utf8: true }))).toMatch(/^\{\d+\}\r\n/);
  });

  it('sends Buffers as literals, byte for byte', () => {
    const bytes = Buffer.from([0x61, 0xff, 0x0d, 0x0a]);
    const out = encodeValue(bytes);
    expect(out.subarray(0, 5).toString('latin1')).toBe('{4}\r\n');
    expect(out.subarray(5).equals(bytes)).toBe(true);
  });

  it('writes nested lists space-separated', () => {
    const v = [atom('FLAGS'), [atom('\\Seen'), atom('$Junk')], 'x', null, 12, [], Buffer.from('ab')];
    expect(text(encodeValue(v))).toBe('(FLAGS (\\Seen $Junk) "x" NIL 12 () {2}\r\nab)');
  });
});

describe('literal8 and quoteString', () => {
  it('frames BINARY data as ~{n} (RFC 3516 §4.2)', () => {
    expect(literal8(Buffer.from([0, 1])).equals(Buffer.from([0x7e, 0x7b, 0x32, 0x7d, 0x0d, 0x0a, 0, 1]))).toBe(true);
  });
  it('quotes and escapes, refusing controls', () => {
    expect(quoteString('a"\\')).toBe('"a\\"\\\\"');
    expect(quoteString('Entwürfe')).toBe('"Entwürfe"');
    expect(() => quoteString('a\nb')).toThrow(RangeError);
  });
});

describe('formatSequenceSet (RFC 9051 §9 sequence-set)', () => {
  it('compacts sorted and unsorted input, merging duplicates', () => {
    expect(formatSequenceSet([])).toBe('');
    expect(formatSequenceSet([5])).toBe('5');
    expect(formatSequenceSet([1, 2, 3, 5, 7, 8, 9])).toBe('1:3,5,7:9');
    expect(formatSequenceSet([9, 1, 3, 2, 2, 8, 7, 5])).toBe('1:3,5,7:9');
    expect(formatSequenceSet([4, 4, 4])).toBe('4');
  });
  it('is linear on 100k numbers', () => {
    const nums = Array.from({ length: 100_000 }, (_, i) => i * 2 + 1);
    const started = performance.now();
    expect(formatSequenceSet(nums).split(',')).toHaveLength(100_000);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('formatInternalDate (RFC 9051 §9 date-time)', () => {
  const ms = Date.UTC(1996, 6, 17, 9, 44, 25);
  it('writes UTC by default', () => {
    expect(formatInternalDate(ms)).toBe('"17-Jul-1996 09:44:25 +0000"');
  });
  it('writes local time in the given zone', () => {
    expect(formatInternalDate(ms, -420)).toBe('"17-Jul-1996 02:44:25 -0700"');
    expect(formatInternalDate(ms, 330)).toBe('"17-Jul-1996 15:14:25 +0530"');
  });
  it('pads a one-digit day with a space (date-day-fixed)', () => {
    expect(formatInternalDate(Date.UTC(2024, 1, 3, 0, 0, 0))).toBe('" 3-Feb-2024 00:00:00 +0000"');
  });
});

describe('ResponseBuilder', () => {
  it('mixes text, values and raw bytes in order', () => {
    const body = Buffer.from([0xc3, 0x28]);
    const out = new ResponseBuilder()
      .text('* 1 FETCH (UID 7 FLAGS ')
      .value([atom('\\Seen')])
      .text(' BODY[] ')
      .value(body)
      .text(' X ')
      .bytes(Buffer.from('raw'))
      .text(')\r\n')
      .toBuffer();
    const expected = Buffer.concat([Buffer.from('* 1 FETCH (UID 7 FLAGS (\\Seen) BODY[] {2}\r\n'), body, Buffer.from(' X raw)\r\n')]);
    expect(out.equals(expected)).toBe(true);
  });
  it('honours the utf8 option', () => {
    expect(text(new ResponseBuilder({ utf8: true }).value('ü').toBuffer())).toBe('"ü"');
    expect(text(new ResponseBuilder().value('ü').toBuffer())).toBe('{2}\r\nü');
  });
});
