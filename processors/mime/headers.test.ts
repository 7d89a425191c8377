import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dropHeaderFields, parseHeaderFields, findHeaderSection } from './headers.ts';

const isX = (f: { name: string }): boolean => f.name === 'x-drop';

describe('dropHeaderFields', () => {
  it('removes a field with its folded lines (RFC 5322 §2.2.3) and keeps every other byte', () => {
    const raw = Buffer.from('A: 1\r\nX-Drop: a\r\n  folded\r\n\tmore\r\nB: 2\r\n\r\nX-Drop: in the body stays\r\n');
    const out = dropHeaderFields(raw, isX);
    expect(out.dropped).toBe(1);
    expect(out.raw.toString()).toBe('A: 1\r\nB: 2\r\n\r\nX-Drop: in the body stays\r\n');
  });

  it('handles bare LF line ends, the first and the last field, and several matches', () => {
    const raw = Buffer.from('X-Drop: 1\nA: 1\nx-drop: 2\nX-DROP : 3\n folded\n\nbody');
    const out = dropHeaderFields(raw, isX);
    expect(out.dropped).toBe(3);
    expect(out.raw.toString()).toBe('A: 1\n\nbody');
  });

  it('returns the same buffer when nothing matches, and copes with a message that is all header', () => {
    const raw = Buffer.from('A: 1\r\nB: 2');
    expect(dropHeaderFields(raw, isX).raw).toBe(raw);
    expect(dropHeaderFields(Buffer.from('X-Drop: 1\r\nA: 2'), isX).raw.toString()).toBe('A: 2');
  });

  it('never changes the body and never leaves a dropped field behind (property)', () => {
    const name = fc.constantFrom('A', 'X-Drop', 'x-drop', 'Subject');
    const value = fc.stringMatching(/^[ -~]{0,20}$/);
    const field = fc.tuple(name, value, fc.boolean()).map(([n, v, fold]) => `${n}: ${v}${fold ? '\r\n folded' : ''}\r\n`);
    fc.assert(
      fc.property(fc.array(field, { maxLength: 8 }), fc.stringMatching(/^[ -~\r\n]{0,40}$/), (fields, body) => {
        const raw = Buffer.from(fields.join('') + '\r\n' + body);
        const out = dropHeaderFields(raw, isX).raw;
        const { headerEnd, bodyStart } = findHeaderSection(out, 0, out.length);
        expect(out.subarray(bodyStart).toString()).toBe(body);
        expect(parseHeaderFields(out, 0, headerEnd).some(isX)).toBe(false);
        expect(parseHeaderFields(out, 0, headerEnd).length).toBe(fields.filter((f) => !/^x-drop/i.test(f)).length);
      }),
    );
  });
});
