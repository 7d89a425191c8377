import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MAX_DEPTH, MAX_PARTS, parseStructure } from './structure.ts';
import type { MimePart } from './structure.ts';
import { bodyStructure } from './bodystructure.ts';
import { envelope } from './envelope.ts';
import { binaryContent } from './binary.ts';
import { sectionBytes } from './section.ts';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));
const body = (raw: Buffer, p: MimePart): string => raw.toString('utf8', p.bodyStart, p.bodyEnd);

const NESTED = crlf(
  'From: a@x.test',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  'preamble',
  '--outer',
  'Content-Type: multipart/alternative; boundary=inner',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'plain text',
  '--inner',
  'Content-Type: text/html',
  '',
  '<p>html</p>',
  '--inner--',
  '--outer',
  'Content-Type: message/rfc822',
  '',
  'Subject: inner',
  '',
  'inner body',
  'two',
  '--outer',
  'Content-Type: application/pdf; title*0="long "; title*1=name;',
  ' name*0*=utf-8\'\'%E2%82%AC; name*1=".pdf"',
  'Content-Transfer-Encoding: Base64',
  'Content-Disposition: attachment; filename*=iso-8859-1\'de\'Gr%FC%DFe.pdf',
  'Content-Language: en, de',
  '',
  'AAAA',
  '--outer--',
  'epilogue',
);

describe('parseStructure', () => {
  it('defaults to text/plain; charset=us-ascii, 7BIT (RFC 2045 §5.2, §6.1)', () => {
    const raw = crlf('Subject: x', '', 'hello', 'world');
    const root = parseStructure(raw);
    expect(root).toMatchObject({ type: 'text', subtype: 'plain', params: { charset: 'us-ascii' }, encoding: '7BIT', lines: 2, headerStart: 0 });
    expect(body(raw, root)).toBe('hello\r\nworld');
  });

  it('finds nested multiparts, message/rfc822 and their offsets (RFC 2046 §5.1.1)', () => {
    const root = parseStructure(NESTED);
    expect(root.type + '/' + root.subtype).toBe('multipart/mixed');
    expect(root.children.map((c) => `${c.type}/${c.subtype}`)).toEqual(['multipart/alternative', 'message/rfc822', 'application/pdf']);
    const [alt, msg, pdf] = root.children;
    expect(alt.children.map((c) => body(NESTED, c))).toEqual(['plain text', '<p>html</p>']);
    expect(alt.children[0].params).toEqual({ charset: 'utf-8' });
    expect(alt.children[1].lines).toBe(1);
    // the CRLF before a delimiter belongs to the delimiter
    expect(body(NESTED, msg)).toBe('Subject: inner\r\n\r\ninner body\r\ntwo');
    expect(msg.lines).toBe(4);
    expect(msg.message).not.toBeNull();
    expect(body(NESTED, msg.message as MimePart)).toBe('inner body\r\ntwo');
    expect(NESTED.toString('utf8', pdf.headerStart, pdf.headerEnd)).toMatch(/^Content-Type: application\/pdf.*\r\n\r\n$/s);
    expect(pdf).toMatchObject({ encoding: 'BASE64', language: ['en', 'de'], params: { title: 'long name', name: '€.pdf' } });
    expect(pdf.disposition).toEqual({ type: 'attachment', params: { filename: 'Grüße.pdf' } });
  });

  it('defaults parts of multipart/digest to message/rfc822 (RFC 2046 §5.1.5)', () => {
    const raw = crlf('Content-Type: multipart/digest; boundary=d', '', '--d', '', 'Subject: one', '', 'x', '--d', 'Content-Type: text/plain', '', 'y', '--d--');
    const root = parseStructure(raw);
    expect(root.children.map((c) => c.type + '/' + c.subtype)).toEqual(['message/rfc822', 'text/plain']);
    expect(root.children[0].message?.bodyStart).toBe(raw.indexOf('x'));
    // only the digest's own parts default to message/rfc822
    const nested = crlf('Content-Type: multipart/digest; boundary=d', '', '--d', 'Content-Type: multipart/mixed; boundary=m', '', '--m', '', 'z', '--m--', '--d--');
    expect(parseStructure(nested).children[0].children[0].type).toBe('text');
  });

  it('parses the RFC 2046 §5.1.1 example and message/global (RFC 6532 §3.5)', () => {
    const raw = crlf(
      'From: Nathaniel Borenstein <nsb@bellcore.com>',
      'Subject: Sample message',
      'MIME-Version: 1.0',
      'Content-type: multipart/mixed; boundary="simple boundary"',
      '',
      'This is the preamble.  It is to be ignored, though it',
      'is a handy place for composition agents to include an',
      'explanatory note to non-MIME conformant readers.',
      '',
      '--simple boundary',
      '',
      'This is implicitly typed plain US-ASCII text.',
      'It does NOT end with a linebreak.',
      '--simple boundary',
      'Content-type: text/plain; charset=us-ascii',
      '',
      'This is explicitly typed plain US-ASCII text.',
      'It DOES end with a linebreak.',
      '',
      '--simple boundary--',
      '',
      'This is the epilogue.  It is also to be ignored.',
    );
    const root = parseStructure(raw);
    expect(root.children.map((c) => body(raw, c))).toEqual([
      'This is implicitly typed plain US-ASCII text.\r\nIt does NOT end with a linebreak.',
      'This is explicitly typed plain US-ASCII text.\r\nIt DOES end with a linebreak.\r\n',
    ]);
    expect(root.children.map((c) => c.lines)).toEqual([2, 2]);
    const global = crlf('Content-Type: message/global', '', 'Subject: ü', '', 'x');
    expect(parseStructure(global)).toMatchObject({ lines: 3, message: { bodyStart: global.length - 1 } });
  });

  it('is lenient with broken boundaries', () => {
    // no close delimiter: the last part runs to the end
    const open = crlf('Content-Type: multipart/mixed; boundary=b', '', '--b', '', 'one', '--b', '', 'two');
    expect(parseStructure(open).children.map((c) => body(open, c))).toEqual(['one', 'two']);
    // no delimiter at all, or no boundary parameter: no parts
    expect(parseStructure(crlf('Content-Type: multipart/mixed; boundary=b', '', 'text')).children).toEqual([]);
    expect(parseStructure(crlf('Content-Type: multipart/mixed', '', '--b', '', 'x')).children).toEqual([]);
    // a longer boundary that starts with ours is not ours; text after a delimiter is not one
    const prefix = crlf('Content-Type: multipart/mixed; boundary=b', '', '--b', '', 'a', '--bb', 'still a', '--b trailing', '--b--');
    expect(parseStructure(prefix).children.map((c) => body(prefix, c))).toEqual(['a\r\n--bb\r\nstill a\r\n--b trailing']);
    // an outer delimiter ends an inner multipart that was never closed
    const unclosed = crlf('Content-Type: multipart/mixed; boundary=o', '', '--o', 'Content-Type: multipart/mixed; boundary=i', '', '--i', '', 'in', '--o', '', 'out', '--o--');
    const root = parseStructure(unclosed);
    expect(root.children.length).toBe(2);
    expect(body(unclosed, root.children[0].children[0])).toBe('in');
    expect(body(unclosed, root.children[1])).toBe('out');
  });

  it('handles bare LF line ends', () => {
    const raw = Buffer.from('Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nline one\nline two\n--b--\n');
    const part = parseStructure(raw).children[0];
    expect(body(raw, part)).toBe('line one\nline two');
    expect(part.lines).toBe(2);
  });

  it('takes a message with no blank line to be all header, and an invalid Content-Type as the default', () => {
    const raw = crlf('Subject: only', 'Content-Type: text');
    const root = parseStructure(raw);
    expect(root).toMatchObject({ headerEnd: raw.length, bodyStart: raw.length, bodyEnd: raw.length, type: 'text', subtype: 'plain', lines: 0 });
  });

  it('does not parse an encapsulated message with a non-identity encoding', () => {
    const raw = crlf('Content-Type: message/rfc822', 'Content-Transfer-Encoding: base64', '', 'U3ViamVjdDogeA0KDQp4');
    expect(parseStructure(raw).message).toBeNull();
  });

  it(`stops nesting at depth ${MAX_DEPTH} and counting at ${MAX_PARTS} parts`, () => {
    let deep = 'leaf';
    for (let i = 0; i < 80; i++) deep = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${deep}\r\n--b${i}--`;
    let depth = 0;
    for (let p: MimePart | undefined = parseStructure(Buffer.from(deep)); p; p = p.children[0]) depth++;
    expect(depth).toBe(MAX_DEPTH + 1);
    const many = Buffer.from('Content-Type: multipart/mixed; boundary=b\r\n\r\n' + '--b\r\n\r\nx\r\n'.repeat(6000) + '--b--');
    const root = parseStructure(many);
    expect(root.children.length).toBe(MAX_PARTS - 1);
  });

  it('copes with huge headers: many fields, one enormous line', () => {
    const many = Buffer.from('X-Spam: ' + 'y\r\n X-Spam: '.repeat(50_000) + '\r\n' + 'Received: x\r\n'.repeat(50_000) + 'Content-Type: text/html\r\n\r\nbody');
    const long = Buffer.from('Subject: ' + 'a'.repeat(2_000_000) + '\r\nContent-Type: text/html\r\n\r\nbody');
    const t = performance.now();
    for (const raw of [many, long]) {
      const root = parseStructure(raw);
      expect(root.subtype).toBe('html');
      expect(raw.toString('latin1', root.bodyStart, root.bodyEnd)).toBe('body');
    }
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it('stays fast on adversarial headers', () => {
    const n = 200_000;
    const raw = Buffer.from(
      `Content-Type: multipart/mixed; ${'('.repeat(n)}\r\nContent-Transfer-Encoding: ${'('.repeat(n)}\r\n` +
        `Content-Language: ${'(,'.repeat(n)}\r\nContent-Disposition: a; ${'x*=";'.repeat(n / 4)}\r\n` +
        `From: ${'"'.repeat(n)}<${'(<'.repeat(n / 2)}\r\nTo: ${'a:'.repeat(n / 2)}\r\nSubject: ${'=?'.repeat(n)}\r\n\r\n`,
    );
    const t = performance.now();
    const root = parseStructure(raw);
    bodyStructure(raw, root, true);
    envelope(raw, root);
    expect(performance.now() - t).toBeLessThan(2000);
  });

  it('parses a large multipart quickly', () => {
    const big = Buffer.from('Content-Type: multipart/mixed; boundary=b\r\n\r\n' + ('--b\r\nContent-Type: text/plain\r\n\r\n' + 'line of text\r\n'.repeat(2000)).repeat(50) + '--b--');
    const t = performance.now();
    expect(parseStructure(big).children.length).toBe(50);
    expect(performance.now() - t).toBeLessThan(200);
  });
});

function checkOffsets(raw: Buffer, part: MimePart, lo: number, hi: number): void {
  expect(lo <= part.headerStart && part.headerStart <= part.headerEnd && part.headerEnd === part.bodyStart).toBe(true);
  expect(part.bodyStart <= part.bodyEnd && part.bodyEnd <= hi).toBe(true);
  let last = part.bodyStart;
  for (const child of part.children) {
    checkOffsets(raw, child, last, part.bodyEnd);
    last = child.bodyEnd;
  }
  if (part.message) checkOffsets(raw, part.message, part.bodyStart, part.bodyEnd);
}

function exercise(raw: Buffer): void {
  const root = parseStructure(raw);
  checkOffsets(raw, root, 0, raw.length);
  bodyStructure(raw, root, true);
  envelope(raw, root);
  sectionBytes(raw, root, { part: [1, 1], text: 'MIME', fields: [] });
  sectionBytes(raw, root, { part: [2], text: 'HEADER.FIELDS', fields: ['subject'] });
  binaryContent(raw, root, [1]);
}

describe('parseStructure on arbitrary input (fast-check)', () => {
  it('never throws and keeps offsets in the buffer and ordered, on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => exercise(Buffer.from(bytes))), { numRuns: 300 });
  });

  it('never throws on mutated MIME messages', () => {
    const pieces = ['--outer', '--inner--', '\r\n', '\n', '\r', 'Content-Type: multipart/mixed; boundary=inner\r\n', 'Content-Type: message/rfc822\r\n', 'Content-Type: multipart/digest; boundary=outer\r\n', '\r\n\r\n', ': ', '"', '=?utf-8?B?', '\u00ff', ''];
    const mutation = fc.record({ at: fc.nat(), cut: fc.nat({ max: 40 }), insert: fc.constantFrom(...pieces) });
    fc.assert(
      fc.property(fc.array(mutation, { maxLength: 12 }), (mutations) => {
        let text = NESTED.toString('latin1');
        for (const m of mutations) {
          const at = m.at % (text.length + 1);
          text = text.slice(0, at) + m.insert + text.slice(at + m.cut);
        }
        exercise(Buffer.from(text, 'latin1'));
      }),
      { numRuns: 500 },
    );
  });
});
