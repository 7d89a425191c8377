import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { toCrlf, toLf } from './line-endings.ts';

describe('line endings', () => {
  it('converts LF to CRLF and back, leaving existing CRLF and lone CR alone', () => {
    expect(toCrlf(Buffer.from('a\nb\r\nc\rd\n')).toString()).toBe('a\r\nb\r\nc\rd\r\n');
    expect(toCrlf(Buffer.from('\n')).toString()).toBe('\r\n');
    expect(toLf(Buffer.from('a\r\nb\nc\r')).toString()).toBe('a\nb\nc\r');
  });

  it('toLf(toCrlf(x)) is x for any text without CR', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '\n', ' ', 'é') }), (s) => {
        const b = Buffer.from(s);
        expect(toLf(toCrlf(b))).toEqual(b);
        expect(toCrlf(b).toString().replace(/\r\n/g, '')).not.toContain('\n');
      }),
    );
  });
});
