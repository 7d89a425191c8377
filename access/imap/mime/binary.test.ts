import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { binaryContent } from './binary.ts';
import { parseStructure } from './structure.ts';
import { decodeBase64, decodeQuotedPrintable, decodeTransfer } from './transfer.ts';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));

describe('transfer decoding (RFC 2045 §6)', () => {
  it('decodes base64 leniently', () => {
    expect(decodeBase64(Buffer.from('SGVs\r\nbG8=')).toString()).toBe('Hello');
    expect(decodeBase64(Buffer.from('SGVsbG8')).toString()).toBe('Hello'); // no padding
    expect(decodeBase64(Buffer.from('SG!Vs*bG8=\r\n')).toString()).toBe('Hello'); // characters outside the alphabet
    expect(decodeBase64(Buffer.from('SGVsbG8=X')).toString()).toBe('Hello'); // a dangling sixth of a byte
    expect(decodeBase64(Buffer.from('SGk=\r\nIHRoZXJl')).toString()).toBe('Hi there'); // concatenated chunks
  });
  it('round-trips random bytes through base64 with line breaks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const encoded = Buffer.from(bytes).toString('base64').replace(/.{1,76}/g, '$&\r\n');
        expect(decodeBase64(Buffer.from(encoded)).equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });
  it('decodes quoted-printable (RFC 2045 §6.7)', () => {
    expect(decodeQuotedPrintable(Buffer.from('caf=C3=A9 =\r\nsoft=\nbreak  \r\nx=3d=ZZ=')).toString()).toBe('café softbreak\r\nx==ZZ');
    expect(decodeQuotedPrintable(Buffer.from('a\tb \t\nc')).toString()).toBe('a\tb\nc');
  });
  it('passes identity encodings through and knows no others', () => {
    const bytes = Buffer.from([0, 1, 255]);
    for (const e of ['7BIT', '8bit', 'binary']) expect(decodeTransfer(bytes, e)).toBe(bytes);
    expect(decodeTransfer(bytes, 'x-uuencode')).toBeNull();
  });
});

describe('binaryContent (RFC 3516 §4.2)', () => {
  const raw = crlf(
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    'Content-Transfer-Encoding: base64',
    '',
    'AAEC/w==',
    '--b',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'a=3Db',
    '--b',
    'Content-Transfer-Encoding: x-uuencode',
    '',
    'begin 644 x',
    '--b--',
  );
  const root = parseStructure(raw);
  it('decodes the part', () => {
    expect(binaryContent(raw, root, [1])).toEqual({ ok: true, bytes: Buffer.from([0, 1, 2, 255]) });
    expect(binaryContent(raw, root, [2])).toEqual({ ok: true, bytes: Buffer.from('a=b') });
    expect(binaryContent(raw, root, [])).toEqual({ ok: true, bytes: raw });
  });
  it('reports UNKNOWN-CTE and NONEXISTENT', () => {
    expect(binaryContent(raw, root, [3])).toEqual({ ok: false, reason: 'UNKNOWN-CTE' });
    expect(binaryContent(raw, root, [4])).toEqual({ ok: false, reason: 'NONEXISTENT' });
    expect(binaryContent(raw, root, [1, 1])).toEqual({ ok: false, reason: 'NONEXISTENT' });
  });
});
