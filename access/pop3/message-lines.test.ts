// RFC 1939 §3 multi-line responses: CRLF, byte-stuffing, the terminator; RFC 1939 §7 TOP.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pop3Body } from './message-lines.ts';
import { decodePlain } from './sasl-plain.ts';
import { LINE_TOO_LONG, LineReader } from './line-reader.ts';

const text = (b: Buffer) => b.toString('latin1');

describe('pop3Body', () => {
  it('passes CRLF mail through, stuffs lines that start with "." and terminates', () => {
    const raw = Buffer.from('Subject: x\r\n\r\n.a\r\nb\r\n.\r\n');
    const body = pop3Body(raw);
    expect(text(body.data)).toBe('Subject: x\r\n\r\n..a\r\nb\r\n..\r\n.\r\n');
    expect(body.size).toBe(raw.length);
  });

  it('makes bare LF and bare CR into CRLF and ends an unterminated last line', () => {
    const body = pop3Body(Buffer.from('A: 1\n\nx\ry\n.z'));
    expect(text(body.data)).toBe('A: 1\r\n\r\nx\r\ny\r\n..z\r\n.\r\n');
    expect(body.size).toBe('A: 1\r\n\r\nx\r\ny\r\n.z\r\n'.length);
  });

  it('an empty message is just the terminator', () => {
    expect(text(pop3Body(Buffer.alloc(0)).data)).toBe('.\r\n');
  });

  it('TOP n: the header, the blank line and n body lines', () => {
    const raw = Buffer.from('A: 1\r\nB: 2\r\n\r\none\r\n.two\r\nthree\r\n');
    expect(text(pop3Body(raw, 0).data)).toBe('A: 1\r\nB: 2\r\n\r\n.\r\n');
    expect(text(pop3Body(raw, 2).data)).toBe('A: 1\r\nB: 2\r\n\r\none\r\n..two\r\n.\r\n');
    expect(text(pop3Body(raw, 10).data)).toBe(text(pop3Body(raw).data));
    expect(text(pop3Body(Buffer.from('A: 1\r\nB: 2\r\n'), 0).data)).toBe('A: 1\r\nB: 2\r\n.\r\n');
  });

  it('never ends early, and unstuffing gives back the CRLF-normalized message (property)', () => {
    const piece = fc.constantFrom('.', '..', 'a', ' ', '\r\n', '\n', '\r', '\r\n.\r\n', 'x.y', '\u00e9');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        const raw = Buffer.from(pieces.join(''), 'latin1');
        const wire = text(pop3Body(raw).data);
        expect(wire.endsWith('\r\n.\r\n') || wire === '.\r\n').toBe(true);
        const lines = wire.split('\r\n').slice(0, -2);
        expect(lines.includes('.')).toBe(false);
        for (const line of lines) expect(line).not.toMatch(/[\r\n]/);
        const normalized = raw.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
        const expected = normalized === '' || normalized.endsWith('\r\n') ? normalized : `${normalized}\r\n`;
        const unstuffed = lines.map((l) => (l.startsWith('.') ? l.slice(1) : l)).join('\r\n');
        expect(lines.length === 0 ? '' : `${unstuffed}\r\n`).toBe(expected);
        expect(pop3Body(raw).size).toBe(Buffer.byteLength(expected, 'latin1'));
      }),
    );
  });
});

describe('decodePlain (RFC 4616 §2)', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  it('reads authcid and password, with an empty or equal authzid', () => {
    expect(decodePlain(b64('\0bob@x.test\0pw d'))).toEqual({ authcid: 'bob@x.test', password: 'pw d' });
    expect(decodePlain(b64('BOB@x.test\0bob@x.test\0pw'))).toEqual({ authcid: 'bob@x.test', password: 'pw' });
  });
  it('refuses a foreign authzid, missing parts and bad base64', () => {
    expect(decodePlain(b64('eve@x.test\0bob@x.test\0pw'))).toBeNull();
    expect(decodePlain(b64('\0bob@x.test'))).toBeNull();
    expect(decodePlain(b64('\0bob@x.test\0'))).toBeNull();
    expect(decodePlain('not base64!')).toBeNull();
    expect(decodePlain('')).toBeNull();
  });
});

describe('LineReader', () => {
  it('splits CRLF and LF lines across chunks and reports over-long lines once', () => {
    const reader = new LineReader(10);
    expect(reader.push(Buffer.from('US'))).toEqual([]);
    expect(reader.push(Buffer.from('ER a\r\nNOOP\nST'))).toEqual(['USER a', 'NOOP']);
    expect(reader.push(Buffer.from('AT\r\n' + 'x'.repeat(30)))).toEqual(['STAT']);
    expect(reader.push(Buffer.from('y'.repeat(30) + '\r\nQUIT\r\n'))).toEqual([LINE_TOO_LONG, 'QUIT']);
    reader.push(Buffer.from('half'));
    reader.reset();
    expect(reader.push(Buffer.from('CAPA\r\n'))).toEqual(['CAPA']);
  });
});
