import { describe, it, expect } from 'vitest';
import { encodeValue } from '../wire/encode.ts';
import { envelope } from './envelope.ts';
import { findHeaderEnd } from './headers.ts';
import { parseStructure } from './structure.ts';
import { RFC9051_ENVELOPE, RFC9051_MESSAGE } from './rfc-samples.ts';

const wire = (raw: Buffer): string => encodeValue(envelope(raw), { utf8: true }).toString('utf8');
const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));

describe('envelope (RFC 9051 §7.5.2)', () => {
  it('matches the RFC 9051 §8 example', () => {
    expect(wire(RFC9051_MESSAGE)).toBe(RFC9051_ENVELOPE);
    expect(encodeValue(envelope(RFC9051_MESSAGE, parseStructure(RFC9051_MESSAGE))).toString()).toBe(RFC9051_ENVELOPE);
  });

  it('is all NIL for a message without those fields', () => {
    expect(wire(crlf('X-Other: 1', '', 'body'))).toBe('(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)');
  });

  it('keeps sender and reply-to when present, and takes the first of repeated fields', () => {
    const raw = crlf('From: a@x.test', 'Sender: s@x.test', 'Reply-To: r@x.test', 'Subject: one', 'Subject: two', '', '');
    expect(wire(raw)).toBe('(NIL "one" ((NIL NIL "a" "x.test")) ((NIL NIL "s" "x.test")) ((NIL NIL "r" "x.test")) NIL NIL NIL NIL NIL)');
  });

  it('writes groups as (NIL NIL "name" NIL) … (NIL NIL NIL NIL), routes as adl', () => {
    const raw = crlf('To: team: a@x.test, "B" <@relay.test:b@y.test>;, c@z.test', 'Cc: undisclosed-recipients:;', '', '');
    expect(wire(raw)).toBe(
      '(NIL NIL NIL NIL NIL ((NIL NIL "team" NIL) (NIL NIL "a" "x.test") ("B" "@relay.test" "b" "y.test") (NIL NIL NIL NIL) ' +
        '(NIL NIL "c" "z.test")) ((NIL NIL "undisclosed-recipients" NIL) (NIL NIL NIL NIL)) NIL NIL NIL)',
    );
  });

  it('passes encoded words undecoded, UTF-8 as is, folded values unfolded', () => {
    const raw = crlf('Subject: =?utf-8?Q?caf=C3=A9?=', 'From: Jürgen', ' <j@x.test>', 'In-Reply-To: <a@b>', 'Message-ID:  <m@x.test> ', '', '');
    expect(wire(raw)).toBe(
      '(NIL "=?utf-8?Q?caf=C3=A9?=" (("Jürgen" NIL "j" "x.test")) (("Jürgen" NIL "j" "x.test")) (("Jürgen" NIL "j" "x.test")) NIL NIL NIL "<a@b>" "<m@x.test>")',
    );
  });

  it('passes 8-bit bytes that are not UTF-8 through as they are', () => {
    const raw = Buffer.concat([Buffer.from('Subject: Gr'), Buffer.from([0xfc, 0xdf]), Buffer.from('e\r\n  folded\r\nDate : today\r\n\r\n')]);
    const value = envelope(raw) as unknown[];
    expect(value[0]).toBe('today');
    expect(value[1]).toEqual(Buffer.concat([Buffer.from('Gr'), Buffer.from([0xfc, 0xdf]), Buffer.from('e  folded')]));
  });

  it('reads the header of an encapsulated message', () => {
    const raw = crlf('Subject: outer', 'Content-Type: message/rfc822', '', 'Subject: inner', 'From: i@x.test', '', 'text');
    const inner = parseStructure(raw).message;
    expect(inner).not.toBeNull();
    const value = envelope(raw, inner ?? undefined) as unknown[];
    expect(value[1]).toBe('inner');
  });

  it('makes 10,000 envelopes from header blocks well under a second', () => {
    const header = Buffer.from(RFC9051_MESSAGE.subarray(0, findHeaderEnd(RFC9051_MESSAGE, 0, RFC9051_MESSAGE.length)));
    const headers = Array.from({ length: 10_000 }, (_, i) => Buffer.concat([Buffer.from(`Received: from host${i}\r\n\tby mx; Wed, 17 Jul 1996\r\n`), header]));
    for (const h of headers.slice(0, 1000)) envelope(h); // warm up the JIT
    const t = performance.now();
    for (const h of headers) envelope(h);
    // ~100–150 ms on an idle 2-core machine; the bound leaves room for a loaded one.
    expect(performance.now() - t).toBeLessThan(1000);
  });
});
