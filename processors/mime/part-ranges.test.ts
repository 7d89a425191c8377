import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { leafParts, scanParts } from './part-ranges.ts';
import type { PartRange } from './part-ranges.ts';
import { hardCases } from './hard-cases.ts';

interface Shape {
  headerStart: number;
  bodyStart: number;
  bodyEnd: number;
  contentType: string;
  children: Shape[];
}

const shape = (p: PartRange): Shape => ({
  headerStart: p.headerStart,
  bodyStart: p.bodyStart,
  bodyEnd: p.bodyEnd,
  contentType: p.contentType,
  children: p.children.map(shape),
});

const hard = (name: string): Buffer => hardCases().find((c) => c.name === name)!.raw;
const text = (raw: Buffer, p: PartRange): string => raw.toString('utf8', p.bodyStart, p.bodyEnd);

describe('scanParts on hand-made messages', () => {
  it('finds nested parts, a quoted boundary with spaces, preamble and epilogue left out', () => {
    const raw = hard('nested-multipart');
    const root = scanParts(raw);
    expect(root.contentType).toBe('multipart/mixed');
    expect(root.boundary).toBe('outer');
    expect(root.bodyEnd).toBe(raw.length);
    const [alt, bin] = root.children;
    expect(alt.contentType).toBe('multipart/alternative');
    expect(alt.boundary).toBe('inner is quoted');
    expect(alt.children.map((c) => c.contentType)).toEqual(['text/plain', 'multipart/related']);
    expect(text(raw, alt.children[0])).toBe('Plain body of the nested message.');
    expect(alt.children[1].children.map((c) => c.contentType)).toEqual(['text/html', 'image/png']);
    expect(text(raw, alt.children[1].children[0])).toBe('<p>HTML body of the <b>nested</b> message.</p>');
    expect(Buffer.from(text(raw, bin), 'base64')).toHaveLength(1000);
    expect(raw.toString('utf8', bin.headerStart, bin.bodyStart)).toMatch(/^Content-Type: application\/octet-stream;[^]*\r\n\r\n$/);
    expect(leafParts(root).every((p) => p.delimited)).toBe(true);
  });

  it('keeps the line end before a boundary out of the body, for CRLF and LF messages', () => {
    const lf = hard('group-addresses-lf');
    expect(leafParts(scanParts(lf)).map((p) => text(lf, p))).toEqual(['Unix line ends.', 'a,b\n1,2']);
    const raw = Buffer.from('Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nline\r\n\r\n--x\r\n\r\n--x--\r\n');
    const parts = scanParts(raw).children;
    expect(parts.map((p) => text(raw, p))).toEqual(['line\r\n', '']);
    expect(parts[0].headerStart).toBe(parts[0].bodyStart - 2); // no headers: RFC 2046 §5.1.1 allows it
  });

  it('does not take a longer boundary that starts with the same characters for a delimiter', () => {
    const raw = Buffer.from(
      'Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: multipart/mixed; boundary=b10\r\n\r\n' +
        '--b10\r\n\r\ninner\r\n--b10--\r\n--b1\r\n\r\nouter\r\n--b1--\r\n',
    );
    const root = scanParts(raw);
    expect(root.children).toHaveLength(2);
    expect(text(raw, root.children[0].children[0])).toBe('inner');
    expect(text(raw, root.children[1])).toBe('outer');
  });

  it('descends into message/rfc822 and applies the digest default', () => {
    const raw = hard('forwarded-rfc822');
    const [, fwd] = scanParts(raw).children;
    expect(fwd.contentType).toBe('message/rfc822');
    expect(fwd.children[0].headerStart).toBe(fwd.bodyStart);
    expect(fwd.children[0].contentType).toBe('multipart/alternative');
    expect(text(raw, fwd.children[0].children[0])).toBe('Original text.');
    const digest = Buffer.from('Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: one\r\n\r\nbody\r\n--d--\r\n');
    const entry = scanParts(digest).children[0];
    expect(entry.contentType).toBe('message/rfc822');
    expect(text(digest, entry.children[0])).toBe('body');
  });

  it('gives no ranges for what broken MIME does not delimit', () => {
    const broken = scanParts(hard('broken-boundary'));
    expect(broken.contentType).toBe('multipart/mixed');
    expect(broken.children).toEqual([]);
    const truncated = scanParts(hard('unterminated-multipart'));
    expect(truncated.children.map((c) => c.delimited)).toEqual([true, false]);
    const nobody = scanParts(hard('no-body'));
    expect(nobody.bodyStart).toBe(nobody.bodyEnd);
    expect(scanParts(Buffer.alloc(0))).toMatchObject({ headerStart: 0, bodyStart: 0, bodyEnd: 0, children: [] });
    expect(scanParts(Buffer.from('Content-Type: garbage\r\n\r\nx')).contentType).toBe('text/plain'); // RFC 2045 §5.2
  });

  it('caps depth and part count', () => {
    let head = 'Content-Type: multipart/mixed; boundary=b0\r\n\r\n';
    let tail = '';
    for (let i = 1; i <= 100; i++) {
      head += `--b${i - 1}\r\nContent-Type: multipart/mixed; boundary=b${i}\r\n\r\n`;
      tail = `\r\n--b${i - 1}--${tail}`;
    }
    const raw = Buffer.from(`${head}--b100\r\n\r\ndeep\r\n--b100--${tail}`);
    let depth = 0;
    for (let n = scanParts(raw, { maxDepth: 40 }); n.children.length > 0; n = n.children[0]) depth++;
    expect(depth).toBe(40);
    const many = Buffer.from(`Content-Type: multipart/mixed; boundary=m\r\n\r\n${'--m\r\n\r\nx\r\n'.repeat(500)}--m--\r\n`);
    expect(scanParts(many, { maxParts: 50 }).children.length).toBeLessThanOrEqual(50);
    expect(scanParts(many).children).toHaveLength(500);
  });
});

// --- Property: ranges found = ranges generated -------------------------------------------------

type Node =
  | { kind: 'leaf'; contentType: string | null; extra: string[]; body: string }
  | { kind: 'multipart'; subtype: string; quoted: boolean; folded: boolean; padding: string; preamble: string; epilogue: string; children: Node[] };

const safeLine = fc.stringMatching(/^[A-Za-z0-9 .,:;=+/_éü]{0,30}$/);
const bodyText = fc.array(safeLine, { maxLength: 5 }).chain((lines) => fc.constantFrom(lines.join('\n'), `${lines.join('\n')}\n`));

const nodeArb = fc.letrec<{ node: Node; leaf: Node; multipart: Node }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('multipart')),
  leaf: fc.record({
    kind: fc.constant('leaf' as const),
    contentType: fc.constantFrom(null, 'text/plain', 'text/html', 'application/octet-stream', 'image/png'),
    extra: fc.array(fc.constantFrom('X-A: 1', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="a b.txt"'), { maxLength: 2 }),
    body: bodyText,
  }),
  multipart: fc.record({
    kind: fc.constant('multipart' as const),
    subtype: fc.constantFrom('mixed', 'alternative', 'related'),
    quoted: fc.boolean(),
    folded: fc.boolean(),
    padding: fc.constantFrom('', ' ', '\t '),
    preamble: fc.constantFrom('', 'preamble text', 'two\nlines'),
    epilogue: fc.constantFrom('', 'epilogue', 'epi\nlogue\n'),
    children: fc.array(tie('node'), { minLength: 1, maxLength: 4 }),
  }),
}));

/** Builds the message bytes of a tree and the ranges a correct scanner must find. */
function build(root: Node, nl: string): { raw: Buffer; expected: Shape } {
  let next = 0;
  const entity = (node: Node, start: number, top: boolean): { bytes: Buffer; shape: Shape } => {
    const head: string[] = top ? ['From: a@example.org', 'Subject: generated'] : [];
    let body: Buffer;
    let children: Shape[] = [];
    let contentType: string;
    if (node.kind === 'leaf') {
      contentType = node.contentType ?? 'text/plain';
      if (node.contentType) head.push(`Content-Type: ${node.contentType}`);
      head.push(...node.extra);
      body = Buffer.from(node.body.replace(/\n/g, nl));
    } else {
      contentType = `multipart/${node.subtype}`;
      // Prefixes of one another on purpose (b1, b10, b1-1 ...): matching must be exact.
      const boundary = `b${next++}${node.quoted ? ' =?x' : '-1'}`;
      const param = node.quoted || boundary.includes(' ') ? `"${boundary}"` : boundary;
      head.push(node.folded ? `Content-Type: ${contentType};${nl}\tboundary=${param}` : `Content-Type: ${contentType}; boundary=${param}`);
      const headBytes = Buffer.from(head.join(nl) + nl + nl);
      const pieces: Buffer[] = [];
      let at = start + headBytes.length;
      const push = (s: string | Buffer): void => {
        const b = typeof s === 'string' ? Buffer.from(s.replace(/\n/g, nl)) : s;
        pieces.push(b);
        at += b.length;
      };
      if (node.preamble) push(`${node.preamble}\n`);
      for (const child of node.children) {
        push(`--${boundary}${node.padding}\n`);
        const built = entity(child, at, false);
        children.push(built.shape);
        push(built.bytes);
        push('\n');
      }
      push(`--${boundary}--`);
      if (node.epilogue) push(`\n${node.epilogue}`);
      body = Buffer.concat(pieces);
      const bytes = Buffer.concat([headBytes, body]);
      return { bytes, shape: { headerStart: start, bodyStart: start + headBytes.length, bodyEnd: start + bytes.length, contentType, children } };
    }
    const headBytes = Buffer.from(head.length > 0 ? head.join(nl) + nl + nl : nl);
    children = [];
    const bytes = Buffer.concat([headBytes, body]);
    return { bytes, shape: { headerStart: start, bodyStart: start + headBytes.length, bodyEnd: start + bytes.length, contentType, children } };
  };
  const { bytes, shape } = entity(root, 0, true);
  return { raw: bytes, expected: shape };
}

describe('scanParts properties', () => {
  it('finds exactly the ranges of generated nested multipart messages (CRLF and LF)', () => {
    fc.assert(
      fc.property(nodeArb.node, fc.constantFrom('\r\n', '\n'), (tree, nl) => {
        const { raw, expected } = build(tree, nl);
        expect(shape(scanParts(raw))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws and keeps every range inside its parent on mangled input', () => {
    const check = (p: PartRange, lo: number, hi: number): void => {
      expect(lo <= p.headerStart && p.headerStart <= p.bodyStart && p.bodyStart <= p.bodyEnd && p.bodyEnd <= hi).toBe(true);
      for (const c of p.children) check(c, p.bodyStart, p.bodyEnd);
    };
    fc.assert(
      fc.property(nodeArb.node, fc.array(fc.tuple(fc.nat(), fc.nat(20), fc.constantFrom('', '--', '\r\n', '\n', '"', '-', ';')), { maxLength: 6 }), (tree, edits) => {
        let raw = build(tree, '\r\n').raw;
        for (const [pos, del, ins] of edits) {
          const at = raw.length === 0 ? 0 : pos % raw.length;
          raw = Buffer.concat([raw.subarray(0, at), Buffer.from(ins), raw.subarray(Math.min(raw.length, at + del))]);
        }
        check(scanParts(raw), 0, raw.length);
      }),
      { numRuns: 300 },
    );
  });
});
