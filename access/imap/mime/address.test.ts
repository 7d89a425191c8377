import { describe, expect, it } from 'vitest';
import { addressListText } from './address.ts';

// What SEARCH FROM/TO/CC/BCC read (RFC 9051 §6.4.4, as Dovecot: the parsed addresses re-written).
describe('addressListText', () => {
  it.each([
    ['user-from@domain.org', 'user-from@domain.org'],
    ['<user-from (comment)@ (comment) domain.org>', 'user-from@domain.org'],
    ['user-from@domain.org (RealFrom)', 'RealFrom <user-from@domain.org>'],
    ['"Real, From" <a@b.org>, c@d.org', 'Real, From <a@b.org>, c@d.org'],
    ['groupname: g1@domain.org, g2@domain.org;,\t groupname2: g3@domain.org;', 'groupname: g1@domain.org, g2@domain.org;, groupname2: g3@domain.org;'],
    ['groupname:;', 'groupname: ;'],
    ['', ''],
  ])('%j → %j', (value, expected) => {
    expect(addressListText(value)).toBe(expected);
  });

  it('runs names through the decoder', () => {
    expect(addressListText('=?utf-8?q?J=C3=B6rg?= <j@b.org>', (n) => n.replace('=?utf-8?q?J=C3=B6rg?=', 'Jörg'))).toBe('Jörg <j@b.org>');
  });
});
