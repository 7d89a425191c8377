import { describe, expect, it } from 'vitest';
import { masterCf } from './send-postfix.ts';

const DEBIAN = [
  'smtp      inet  n       -       y       -       -       smtpd',
  '#smtp      inet  n       -       y       -       1       postscreen',
  'pickup    unix  n       -       y       60      1       pickup',
].join('\n');

/** What ../shared/bench/anchor-postfix-dovecot/setup.sh installs as /etc/postfix/master.cf. */
const ANCHOR = [
  '127.0.0.1:2525 inet  n       -       n       -       -       smtpd',
  '#smtp      inet  n       -       y       -       1       postscreen',
  'pickup     unix  n       -       n       60      1       pickup',
].join('\n');

describe('masterCf', () => {
  it("puts the instance's listener in place of Debian's smtpd line, without chroot", () => {
    const lines = masterCf('127.0.0.77:2525', DEBIAN).split('\n');
    expect(lines[0]).toBe('127.0.0.77:2525 inet n - n - - smtpd');
    expect(lines[1]).toMatch(/^#smtp/);
    expect(lines[2]).toMatch(/^pickup\s+unix\s+n\s+-\s+n\s/);
  });

  it("replaces the anchor's 127.0.0.1:2525 listener too, so the two instances do not listen there", () => {
    const lines = masterCf('127.0.0.77:2525', ANCHOR).split('\n');
    expect(lines[0]).toBe('127.0.0.77:2525 inet n - n - - smtpd');
    expect(lines.filter((l) => l.includes('127.0.0.1:2525'))).toEqual([]);
  });
});
