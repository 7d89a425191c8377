/**
 * Test messages built to match the examples of RFC 9051 §8 and RFC 3501 §7.4.2 (sizes and
 * line counts included), shared by the envelope and bodystructure tests.
 */

/** `lines` CRLF-terminated lines of filler text, `bytes` octets in all. */
export function filler(bytes: number, lines: number, alphabet = 'abcdefghijklmnopqrstuvwxyz '): string {
  const content = bytes - 2 * lines;
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const length = Math.floor(content / lines) + (i < content % lines ? 1 : 0);
    let line = '';
    for (let j = 0; j < length; j++) line += alphabet[(i + j) % alphabet.length];
    out.push(line.replace(/^ | $/g, 'x') + '\r\n');
  }
  return out.join('');
}

/** RFC 9051 §8: message 12, whose BODY is ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92). */
export const RFC9051_MESSAGE = Buffer.from(
  [
    'Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
    'From: Terry Gray <gray@cac.washington.edu>',
    'Subject: IMAP4rev2 WG mtg summary and minutes',
    'To: imap@cac.washington.edu',
    'cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>',
    'Message-Id: <B27397-0100000@cac.washington.edu>',
    'MIME-Version: 1.0',
    'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII',
    '',
    '',
  ].join('\r\n') + filler(3028, 92),
);

export const RFC9051_ENVELOPE =
  '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev2 WG mtg summary and minutes" ' +
  '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
  '(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ' +
  '((NIL NIL "minutes" "CNRI.Reston.VA.US") ("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ' +
  '"<B27397-0100000@cac.washington.edu>")';

export const RFC9051_BODY = '("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92)';

/** RFC 3501 §7.4.2 BODYSTRUCTURE example (a BODY without extension data). */
export const RFC3501_MESSAGE = Buffer.from(
  [
    'From: gray@cac.washington.edu',
    'MIME-Version: 1.0',
    'Content-Type: MULTIPART/MIXED; BOUNDARY="sep"',
    '',
    '--sep',
    'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII',
    '',
    filler(1152, 23),
    '--sep',
    'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff',
    'Content-ID: <960723163407.20117h@cac.washington.edu>',
    'Content-Description: Compiler diff',
    'Content-Transfer-Encoding: BASE64',
    '',
    filler(4554, 73, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'),
    '--sep--',
    '',
  ].join('\r\n'),
);

export const RFC3501_BODY =
  '(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") ' +
  '"<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) "MIXED")';
