import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMailboxName, encodeMailboxName } from './mutf7.ts';

describe('modified UTF-7 (RFC 3501 §5.1.3)', () => {
  const pairs: Array<[string, string]> = [
    ['INBOX', 'INBOX'],
    ['Tom & Jerry', 'Tom &- Jerry'],
    ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'], // the RFC's example
    ['Entwürfe', 'Entw&APw-rfe'],
    ['😀', '&2D3eAA-'],
    ['a\tb', 'a&AAk-b'],
    ['', ''],
  ];
  for (const [name, wire] of pairs) {
    it(`${JSON.stringify(name)} ⇄ ${wire}`, () => {
      expect(encodeMailboxName(name)).toBe(wire);
      expect(decodeMailboxName(wire)).toBe(name);
    });
  }

  it('round-trips any well-formed Unicode string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (name) => {
        expect(decodeMailboxName(encodeMailboxName(name))).toBe(name);
      }),
      { numRuns: 500 },
    );
  });

  const invalid = [
    ['unterminated shift', '&AGE'],
    ['bad base64 char', '&A.E-'],
    ['8-bit character', 'Entwürfe'],
    ['control character', 'a\nb'],
    ['printable ASCII in base64', '&AGEAYg-'],
    ['odd byte count', '&AG-'],
    ['non-zero padding bits', '&AGF-'],
    ['unpaired surrogate', '&2D0-'],
    ['adjacent shifts', '&APw-&APw-'],
  ];
  for (const [why, wire] of invalid) {
    it(`rejects ${why}`, () => {
      expect(() => decodeMailboxName(wire)).toThrow(TypeError);
    });
  }
});
