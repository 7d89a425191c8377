import { describe, it, expect } from 'vitest';
import type { Section } from '../command.ts';
import { applyPartial, findPart, sectionBytes } from './section.ts';
import { parseStructure } from './structure.ts';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));

// The RFC 9051 §6.4.5 example structure: HEADER, TEXT, 1, 2, 3 (message/rfc822: 3.HEADER,
// 3.TEXT, 3.1, 3.2), 4 (multipart/mixed: 4.1, 4.1.MIME, 4.2 message/rfc822: 4.2.HEADER,
// 4.2.TEXT, 4.2.1, 4.2.2 multipart/alternative: 4.2.2.1, 4.2.2.2).
const RAW = crlf(
  'From: a@x.test',
  'Subject: example',
  'Content-Type: multipart/mixed; boundary=m',
  '',
  '--m',
  '',
  'part 1',
  '--m',
  'Content-Type: application/octet-stream',
  '',
  'part 2',
  '--m',
  'Content-Type: message/rfc822',
  '',
  'Subject: three',
  'Content-Type: multipart/mixed; boundary=t',
  '',
  '--t',
  '',
  'part 3.1',
  '--t',
  'Content-Type: application/octet-stream',
  '',
  'part 3.2',
  '--t--',
  '--m',
  'Content-Type: multipart/mixed; boundary=f',
  '',
  '--f',
  'Content-Type: image/gif',
  '',
  'part 4.1',
  '--f',
  'Content-Type: message/rfc822',
  '',
  'Subject: four-two',
  'X-Extra: 1',
  'Content-Type: multipart/alternative; boundary=a',
  '',
  '--a',
  '',
  'part 4.2.1',
  '--a',
  'Content-Type: multipart/alternative; boundary=aa',
  '',
  '--aa',
  '',
  'part 4.2.2.1',
  '--aa',
  'Content-Type: text/richtext',
  '',
  'part 4.2.2.2',
  '--aa--',
  '--a--',
  '--f--',
  '--m--',
  '',
);
const ROOT = parseStructure(RAW);

function fetch(part: number[], text: Section['text'] = null, fields: string[] = []): string | null {
  const bytes = sectionBytes(RAW, ROOT, { part, text, fields });
  return bytes === null ? null : bytes.toString();
}

describe('sectionBytes (RFC 9051 §6.4.5)', () => {
  it('returns the whole message, its header (with the blank line) and its text', () => {
    expect(fetch([])).toBe(RAW.toString());
    expect(fetch([], 'HEADER')).toBe('From: a@x.test\r\nSubject: example\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n');
    expect(fetch([], 'TEXT')).toBe(RAW.toString().slice(RAW.indexOf('--m')));
  });

  it('numbers parts as in the RFC example', () => {
    expect(fetch([1])).toBe('part 1');
    expect(fetch([2])).toBe('part 2');
    expect(fetch([3, 1])).toBe('part 3.1');
    expect(fetch([3, 2])).toBe('part 3.2');
    expect(fetch([4, 1])).toBe('part 4.1');
    expect(fetch([4, 2, 1])).toBe('part 4.2.1');
    expect(fetch([4, 2, 2, 1])).toBe('part 4.2.2.1');
    expect(fetch([4, 2, 2, 2])).toBe('part 4.2.2.2');
    expect(fetch([3])).toMatch(/^Subject: three\r\n.*part 3.2\r\n--t--$/s);
  });

  it('returns MIME headers of parts and HEADER/TEXT of encapsulated messages', () => {
    expect(fetch([4, 1], 'MIME')).toBe('Content-Type: image/gif\r\n\r\n');
    expect(fetch([1], 'MIME')).toBe('\r\n');
    expect(fetch([3], 'HEADER')).toBe('Subject: three\r\nContent-Type: multipart/mixed; boundary=t\r\n\r\n');
    expect(fetch([4, 2], 'TEXT')).toMatch(/^--a\r\n.*--a--$/s);
    expect(fetch([4, 2], 'HEADER.FIELDS', ['SUBJECT', 'x-extra'])).toBe('Subject: four-two\r\nX-Extra: 1\r\n\r\n');
    expect(fetch([4, 2], 'HEADER.FIELDS.NOT', ['subject', 'content-type'])).toBe('X-Extra: 1\r\n\r\n');
  });

  it('returns null for parts that do not exist and for HEADER/TEXT of a part that is not a message', () => {
    expect(fetch([5])).toBeNull();
    expect(fetch([0])).toBeNull();
    expect(fetch([1, 1])).toBeNull();
    expect(fetch([4, 3])).toBeNull();
    expect(fetch([2], 'HEADER')).toBeNull();
    expect(fetch([4, 1], 'TEXT')).toBeNull();
    expect(fetch([], 'MIME')).toBeNull();
  });

  it('treats part 1 of a non-multipart message as its body, and keeps original bytes of fields', () => {
    const raw = crlf('Subject: one', 'subject: Two', '  folded', 'To: t@x.test', '', 'body');
    const root = parseStructure(raw);
    expect(findPart(root, [1])).toBe(root);
    expect(sectionBytes(raw, root, { part: [1], text: null, fields: [] })?.toString()).toBe('body');
    expect(sectionBytes(raw, root, { part: [2], text: null, fields: [] })).toBeNull();
    expect(sectionBytes(raw, root, { part: [], text: 'HEADER.FIELDS', fields: ['Subject', 'cc'] })?.toString()).toBe('Subject: one\r\nsubject: Two\r\n  folded\r\n\r\n');
    expect(sectionBytes(raw, root, { part: [], text: 'HEADER.FIELDS', fields: ['cc'] })?.toString()).toBe('\r\n');
  });

  it('keeps bare LF fields as they are, and leaves out the blank line when the message has none', () => {
    const lf = Buffer.from('Subject: x\nTo: y\n\nbody\n');
    expect(sectionBytes(lf, parseStructure(lf), { part: [], text: 'HEADER.FIELDS', fields: ['to'] })?.toString()).toBe('To: y\n\r\n');
    const noBody = Buffer.from('Subject: x\r\nTo: y');
    expect(sectionBytes(noBody, parseStructure(noBody), { part: [], text: 'HEADER.FIELDS', fields: ['to'] })?.toString()).toBe('To: y\r\n');
    expect(sectionBytes(noBody, parseStructure(noBody), { part: [], text: 'TEXT', fields: [] })?.toString()).toBe('');
  });
});

describe('applyPartial (RFC 9051 §6.4.5 <origin.octets>)', () => {
  const bytes = Buffer.from('0123456789');
  it('slices from the origin, truncated at the end, empty past it', () => {
    expect(applyPartial(bytes, null).toString()).toBe('0123456789');
    expect(applyPartial(bytes, { offset: 2, length: 3 }).toString()).toBe('234');
    expect(applyPartial(bytes, { offset: 8, length: 10 }).toString()).toBe('89');
    expect(applyPartial(bytes, { offset: 10, length: 1 }).toString()).toBe('');
    expect(applyPartial(bytes, { offset: 99, length: 1 }).toString()).toBe('');
  });
});
