import { describe, it, expect } from 'vitest';
import { bodyText, headerValues, stripHtml } from './search-text.ts';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));

describe('headerValues', () => {
  it('returns every decoded value of a field, top-level header only', () => {
    const raw = crlf('Subject: =?utf-8?Q?caf=C3=A9?= time', 'X-Tag: a', 'x-tag: b', '', 'X-Tag: not a header');
    expect(headerValues(raw, 'subject')).toEqual(['café time']);
    expect(headerValues(raw, 'X-TAG')).toEqual(['a', 'b']);
    expect(headerValues(raw, 'cc')).toEqual([]);
  });
});

describe('bodyText', () => {
  it('decodes text parts of all kinds, skips other parts, strips HTML', () => {
    const raw = crlf(
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Gr=FC=DFe',
      '--b',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('<p>Hello&nbsp;<b>wörld</b> &amp; &#x263A;</p><style>p{}</style>').toString('base64'),
      '--b',
      'Content-Type: image/png',
      'Content-Transfer-Encoding: base64',
      '',
      'iVBORw0KGgo=',
      '--b',
      'Content-Type: message/rfc822',
      '',
      'Subject: inner',
      '',
      'inner text',
      '--b--',
    );
    const text = bodyText(raw);
    expect(text).toContain('Grüße');
    expect(text).toContain('Hello  wörld  & ☺');
    expect(text).toContain('inner text');
    expect(text).not.toContain('<p>');
    expect(text).not.toContain('p{}');
    expect(text).not.toContain('PNG');
  });

  it('reads unlabelled 8-bit text as UTF-8', () => {
    expect(bodyText(Buffer.from('Subject: x\n\nnaïve\n'))).toBe('naïve\n');
  });

  it('strips tags and comments', () => {
    expect(stripHtml('a<!-- x -->b<br/>c&lt;')).toBe('a b c<');
  });
});
