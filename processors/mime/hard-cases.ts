/**
 * Hand-made hard MIME messages, shared by the parser benchmark and the tests of the parse and
 * split-attachments stages: nesting, transfer encodings, RFC 2047 words, legacy charsets,
 * HTML-only, no body, broken boundaries, LF line ends, a large attachment.
 */

export interface HardCase {
  readonly name: string;
  readonly raw: Buffer;
}

const crlf = (lines: string[]): string => lines.join('\r\n');

/** Base64 lines of 76 characters (RFC 2045 §6.8). */
export function base64Lines(bytes: Buffer): string {
  const b64 = bytes.toString('base64');
  const out: string[] = [];
  for (let i = 0; i < b64.length; i += 76) out.push(b64.slice(i, i + 76));
  return out.join('\r\n');
}

/** Deterministic pseudo-random bytes (xorshift32), so fixtures are the same on every run. */
export function pseudoRandomBytes(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const HEAD = [
  'Received: from mx.example.org (mx.example.org [192.0.2.1]) by mail.example.test; Mon, 6 Jan 2025 10:00:00 +0000',
  'Date: Mon, 6 Jan 2025 10:00:00 +0000',
  'To: Bob <bob@example.test>',
  'MIME-Version: 1.0',
];

/** A message whose one attachment is `attachment` (base64), e.g. for the deduplication test. */
export function messageWithAttachment(id: string, attachment: Buffer, filename = 'report.pdf'): Buffer {
  return Buffer.from(
    crlf([
      ...HEAD,
      'From: Alice <alice@example.org>',
      `Subject: with attachment ${id}`,
      `Message-ID: <${id}@example.org>`,
      'Content-Type: multipart/mixed; boundary="==att=="',
      '',
      '--==att==',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `See the attached file (${id}).`,
      '--==att==',
      `Content-Type: application/pdf; name="${filename}"`,
      `Content-Disposition: attachment; filename="${filename}"`,
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(attachment),
      '--==att==--',
      '',
    ]),
  );
}

export function hardCases(): HardCase[] {
  const cases: HardCase[] = [];
  const add = (name: string, raw: string | Buffer): void => {
    cases.push({ name, raw: typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw });
  };

  add(
    'nested-multipart',
    crlf([
      ...HEAD,
      'From: Alice <alice@example.org>',
      'Cc: Carol <carol@example.net>, dave@example.net',
      'Subject: Nested parts',
      'Message-ID: <nested-1@example.org>',
      'In-Reply-To: <parent-1@example.org> <other@example.org>',
      'References: <root-1@example.org>',
      ' <parent-1@example.org>',
      'Content-Type: multipart/mixed; boundary=outer',
      '',
      'This is the preamble; MIME readers ignore it.',
      '--outer',
      'Content-Type: multipart/alternative; boundary="inner is quoted"',
      '',
      '--inner is quoted',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'Plain body of the nested message.',
      '--inner is quoted',
      'Content-Type: multipart/related; boundary=rel',
      '',
      '--rel',
      'Content-Type: text/html; charset=us-ascii',
      '',
      '<p>HTML body of the <b>nested</b> message.</p>',
      '--rel',
      'Content-Type: image/png',
      'Content-ID: <img1@example.org>',
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(pseudoRandomBytes(300, 7)),
      '--rel--',
      '',
      '--inner is quoted--',
      '--outer',
      'Content-Type: application/octet-stream; name="data.bin"',
      'Content-Disposition: attachment; filename="data.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(pseudoRandomBytes(1000, 8)),
      '--outer--',
      'This is the epilogue.',
      '',
    ]),
  );

  add(
    'quoted-printable',
    crlf([
      ...HEAD,
      'From: alice@example.org',
      'Subject: QP body',
      'Message-ID: <qp-1@example.org>',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Caf=C3=A9 cr=C3=A8me br=C3=BBl=C3=A9e, a long line that is wrapped with a so=',
      'ft line break, and an equals sign =3D here.',
      '',
    ]),
  );

  add(
    'encoded-words',
    crlf([
      ...HEAD,
      'From: =?UTF-8?B?Wm/DqyBNw7xsbGVy?= <zoe@example.org>',
      'Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_Z=FCrich?= =?UTF-8?B?4pyTIGRvbmU=?=',
      'Message-ID: <ew-1@example.org>',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Encoded words in the headers.',
      '',
    ]),
  );

  add(
    'iso-8859-1',
    Buffer.concat([
      Buffer.from(
        crlf([
          ...HEAD,
          'From: alice@example.org',
          'Subject: Latin-1 body',
          'Message-ID: <latin1-1@example.org>',
          'Content-Type: text/plain; charset=ISO-8859-1',
          'Content-Transfer-Encoding: 8bit',
          '',
          '',
        ]),
      ),
      Buffer.from('Gr\xfc\xdfe aus Z\xfcrich, \xe7a va?\r\n', 'latin1'),
    ]),
  );

  add(
    'shift-jis',
    Buffer.concat([
      Buffer.from(
        crlf([
          ...HEAD,
          'From: alice@example.org',
          'Subject: =?Shift_JIS?B?k/qWe4zq?=',
          'Message-ID: <sjis-1@example.org>',
          'Content-Type: text/plain; charset=Shift_JIS',
          'Content-Transfer-Encoding: 8bit',
          '',
          '',
        ]),
      ),
      Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, 0x0d, 0x0a]), // 日本語
    ]),
  );

  add(
    'html-only',
    crlf([
      ...HEAD,
      'From: News <news@example.org>',
      'Subject: HTML only',
      'Message-ID: <html-1@example.org>',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<html><head><style>p{color:red}</style></head><body><h1>Weekly news</h1><p>First&nbsp;item &amp; more.</p></body></html>',
      '',
    ]),
  );

  add(
    'no-body',
    crlf([...HEAD, 'From: alice@example.org', 'Subject: No body at all', 'Message-ID: <nobody-1@example.org>', '']),
  );

  add(
    'broken-boundary',
    crlf([
      ...HEAD,
      'From: alice@example.org',
      'Subject: Broken boundary',
      'Message-ID: <broken-1@example.org>',
      'Content-Type: multipart/mixed; boundary="declared"',
      '',
      '--actually-used',
      'Content-Type: text/plain',
      '',
      'The boundary in the header is not the one used.',
      '--actually-used--',
      '',
    ]),
  );

  add(
    'unterminated-multipart',
    crlf([
      ...HEAD,
      'From: alice@example.org',
      'Subject: Truncated',
      'Message-ID: <trunc-1@example.org>',
      'Content-Type: multipart/mixed; boundary=b1',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'First part is complete.',
      '--b1',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(pseudoRandomBytes(600, 9)),
    ]),
  );

  add(
    'group-addresses-lf',
    [
      'Date: Tue, 7 Jan 2025 09:30:00 -0500',
      'From: "Smith, Anna" <anna@example.org>',
      'To: Team: a@example.test, "B. B." <b@example.test>;, solo@example.test',
      'Subject: LF line ends and a group',
      'Message-ID: <lf-1@example.org>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary=lf',
      '',
      '--lf',
      'Content-Type: text/plain',
      '',
      'Unix line ends.',
      '--lf',
      'Content-Type: text/csv; name*=utf-8\'\'r%C3%A9sum%C3%A9.csv',
      'Content-Disposition: attachment; filename*=utf-8\'\'r%C3%A9sum%C3%A9.csv',
      '',
      'a,b',
      '1,2',
      '--lf--',
      '',
    ].join('\n'),
  );

  add(
    'forwarded-rfc822',
    crlf([
      ...HEAD,
      'From: alice@example.org',
      'Subject: Fwd: original',
      'Message-ID: <fwd-1@example.org>',
      'Content-Type: multipart/mixed; boundary=fw',
      '',
      '--fw',
      'Content-Type: text/plain',
      '',
      'Forwarding this.',
      '--fw',
      'Content-Type: message/rfc822',
      'Content-Disposition: attachment; filename="original.eml"',
      '',
      'From: carol@example.net',
      'Subject: original',
      'Content-Type: multipart/alternative; boundary=orig',
      '',
      '--orig',
      'Content-Type: text/plain',
      '',
      'Original text.',
      '--orig--',
      '',
      '--fw--',
      '',
    ]),
  );

  add('large-attachment', messageWithAttachment('large-1', pseudoRandomBytes(400 * 1024, 11), 'big.pdf'));

  return cases;
}
