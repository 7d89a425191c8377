import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, startHarness, type Harness } from '../fetch/test-context.ts';
import { addressKeysOf, firstAddrMailbox } from './address-keys.ts';

// RFC 5256 §3: the first address's addr-mailbox; a group start's addr-mailbox is its name (RFC 9051 §7.5.2).
describe('firstAddrMailbox', () => {
  it.each([
    ['user2@domain2.org', 'user2'],
    ['foo bar <User1@domain1.org>', 'User1'],
    ['user2@domain2.org (foo bar)', 'user2'],
    ['<a (c)@ (c) b.org>, z@b.org', 'a'],
    ['"q u" <"x y"@b.org>', 'x y'],
    ['user2: blah@domain1.org;', 'user2'],
    ['undisclosed-recipients:;', 'undisclosed-recipients'],
    ['<@route:who@b.org>', 'who'],
    ['', ''],
    ['@nolocal.org', ''],
  ])('%j → %j', (value, expected) => {
    expect(firstAddrMailbox(value)).toBe(expected);
  });

  it('is "" for a missing field', () => {
    expect(firstAddrMailbox(null)).toBe('');
    expect(addressKeysOf(Buffer.from('From: a@b\r\nSubject: x\r\n\r\nCc: body@not.header\r\n'))).toEqual({ FROM: 'a', TO: '', CC: '' });
  });
});

// imaptest's sort-addresses fixture: keys tie on the local part; ties go in sequence order, also under REVERSE.
describe('SORT by FROM, TO, CC', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    const messages = [
      ['user2@domain2.org', 'foo bar <user2@domain2.org>', 'user2@domain2.org (foo bar)'],
      ['user2@domain1.org', 'user2@domain1.org', 'user2: blah@domain1.org;'],
      ['User1@domain1.org', 'user1@domain1.org', 'user1@domain1.org'],
    ];
    for (const [i, [from, to, cc]] of messages.entries()) {
      await h.env.deliver(ALICE, `From: ${from}\nTo: ${to}\nCc: ${cc}\nSubject: ${i}\n\n${i}\n`, { receivedAt: Date.UTC(2026, 0, 1 + i) });
    }
    await h.select();
  });
  afterAll(() => h.close());

  it.each([
    ['(FROM)', '3 1 2'],
    ['(TO)', '3 1 2'],
    ['(CC)', '3 1 2'],
    ['(REVERSE FROM)', '1 2 3'],
    ['(REVERSE CC)', '1 2 3'],
    ['(CC REVERSE ARRIVAL)', '3 2 1'],
    ['(TO REVERSE ARRIVAL)', '3 2 1'],
  ])('SORT %s', async (criteria, expected) => {
    const { out, result } = await h.run(`s SORT ${criteria} US-ASCII ALL`);
    expect(result.status).toBe('OK');
    expect(out).toBe(`* SORT ${expected}\r\n`);
  });
});
