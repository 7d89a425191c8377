import { describe, it, expect } from 'vitest';
import { encodeValue } from '../wire/encode.ts';
import { bodyStructure } from './bodystructure.ts';
import { parseStructure } from './structure.ts';
import { RFC3501_BODY, RFC3501_MESSAGE, RFC9051_BODY, RFC9051_MESSAGE } from './rfc-samples.ts';

const wire = (raw: Buffer, extensible: boolean): string => encodeValue(bodyStructure(raw, parseStructure(raw), extensible), { utf8: true }).toString('utf8');
const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));

describe('bodyStructure (RFC 9051 §7.5.2)', () => {
  it('matches the RFC 9051 §8 BODY example and the RFC 3501 §7.4.2 example (case aside)', () => {
    expect(wire(RFC9051_MESSAGE, false).toUpperCase()).toBe(RFC9051_BODY.toUpperCase());
    expect(wire(RFC3501_MESSAGE, false).toUpperCase()).toBe(RFC3501_BODY.toUpperCase());
  });

  it('adds extension data: multipart params/disposition/language/location, leaf md5/…', () => {
    expect(wire(RFC9051_MESSAGE, true)).toBe('("text" "plain" ("charset" "US-ASCII") NIL NIL "7BIT" 3028 92 NIL NIL NIL NIL)');
    const raw = crlf(
      'Content-Type: multipart/mixed; boundary=b',
      'Content-Language: en',
      '',
      '--b',
      'Content-Type: image/png; name=a.png',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="a.png"',
      'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
      'Content-Location: http://x.test/a.png',
      'Content-Language: en, fr',
      '',
      'iVBORw0KGgo=',
      '--b',
      'Content-Type: text/html',
      'Content-Disposition: inline',
      '',
      '<b>x</b>',
      '--b--',
    );
    expect(wire(raw, true)).toBe(
      '(("image" "png" ("name" "a.png") NIL NIL "BASE64" 12 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("attachment" ("filename" "a.png")) ("en" "fr") "http://x.test/a.png")' +
        '("text" "html" ("charset" "us-ascii") NIL NIL "7BIT" 8 1 NIL ("inline" NIL) NIL NIL) "mixed" ("boundary" "b") NIL ("en") NIL)',
    );
    expect(wire(raw, false)).toBe('(("image" "png" ("name" "a.png") NIL NIL "BASE64" 12)("text" "html" ("charset" "us-ascii") NIL NIL "7BIT" 8 1) "mixed")');
  });

  it('describes message/rfc822 with the envelope, structure and lines of the encapsulated message', () => {
    const raw = crlf('Content-Type: message/rfc822', '', 'Subject: hi', 'From: a@x.test', '', 'one', 'two');
    expect(wire(raw, false)).toBe(
      '("message" "rfc822" NIL NIL NIL "7BIT" 39 (NIL "hi" ((NIL NIL "a" "x.test")) ((NIL NIL "a" "x.test")) ((NIL NIL "a" "x.test")) NIL NIL NIL NIL NIL) ' +
        '("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 8 2) 5)',
    );
  });

  it('gives a multipart without parts one empty text/plain part, and an opaque message/rfc822 as octet-stream', () => {
    expect(wire(crlf('Content-Type: multipart/mixed; boundary=b', '', 'no parts'), false)).toBe('(("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 0 0) "mixed")');
    expect(wire(crlf('Content-Type: multipart/mixed; boundary=b', '', 'no parts'), true)).toBe(
      '(("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 0 0 NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL)',
    );
    expect(wire(crlf('Content-Type: message/rfc822', 'Content-Transfer-Encoding: base64', '', 'AAAA'), false)).toBe(
      '("application" "octet-stream" NIL NIL NIL "BASE64" 4)',
    );
  });

  it('writes the parts of a multipart without spaces between them (RFC 9051 §9 body-type-mpart), non-ASCII as literals', () => {
    const raw = crlf('Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Description: café', '', 'x', '--b', '', 'y', '--b--');
    expect(wire(raw, false)).toBe(
      '(("text" "plain" ("charset" "us-ascii") NIL {5}\r\ncafé "7BIT" 1 1)("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 1 1) "mixed")',
    );
  });

  it('writes RFC 2231 parameters decoded', () => {
    const raw = crlf('Content-Type: application/octet-stream; name*=utf-8\'\'%C3%A9t%C3%A9.txt', '', 'x');
    expect(wire(raw, false)).toBe('("application" "octet-stream" ("name" "été.txt") NIL NIL "7BIT" 1)');
  });
});
