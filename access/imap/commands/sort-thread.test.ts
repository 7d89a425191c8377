import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, startHarness, type Harness } from '../fetch/test-context.ts';

function message(from: string, subject: string, date: string | null, headers: string[] = [], body = 'Text.'): string {
  return [`From: ${from}`, 'To: alice@example.test', `Subject: ${subject}`, ...(date ? [`Date: ${date}`] : []), ...headers, '', body, ''].join('\n');
}

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  const received = Date.UTC(2026, 10, 20);
  const messages = [
    message('Zed <zed@example.org>', 'Re: Banana', 'Tue, 3 Nov 2026 10:00:00 +0000', [], 'A longer body than the others, by far.'),
    message('adam@example.org', 'apple', 'Sun, 1 Nov 2026 10:00:00 +0000'),
    message('Bob <bob@example.org>', 'Banana', 'Mon, 2 Nov 2026 10:00:00 +0000', ['Message-ID: <b1@example.org>'], 'Middle-sized body.'),
    message('Carl <carl@example.org>', 'Re: Banana', 'Wed, 4 Nov 2026 10:00:00 +0000', ['In-Reply-To: <b1@example.org>', 'References: <b1@example.org>']),
    message('Dave <dave@example.org>', '[list] apple', null),
  ];
  for (const raw of messages) await h.env.deliver(ALICE, raw, { receivedAt: received });
  await h.select();
});
afterAll(() => h.close());

// RFC 5256 §3 SORT.
describe('SORT', () => {
  it.each([
    ['(SUBJECT)', '2 5 1 3 4'],
    ['(DATE)', '2 3 1 4 5'],
    ['(REVERSE DATE)', '5 4 1 3 2'],
    ['(FROM)', '2 3 4 5 1'],
    ['(SUBJECT REVERSE DATE)', '5 2 4 1 3'],
    ['(ARRIVAL)', '1 2 3 4 5'],
    ['(REVERSE ARRIVAL)', '1 2 3 4 5'],
  ])('SORT %s', async (criteria, expected) => {
    const { out, result } = await h.run(`s1 SORT ${criteria} UTF-8 ALL`);
    expect(result.status).toBe('OK');
    expect(out).toBe(`* SORT ${expected}\r\n`);
  });

  it('SIZE ascending, with search criteria; UID SORT answers UIDs', async () => {
    const rows = await h.env.store.messagesByUid(h.view.mailbox.id, [1, 2, 3, 4, 5]);
    const bySize = [...rows].sort((a, b) => a.size - b.size || a.uid - b.uid).map((r) => r.uid);
    expect((await h.run('s2 UID SORT (SIZE) US-ASCII ALL')).out).toBe(`* SORT ${bySize.join(' ')}\r\n`);
    expect((await h.run('s3 SORT (DATE) UTF-8 SUBJECT banana')).out).toBe('* SORT 3 1 4\r\n');
    expect((await h.run('s4 SORT (DATE) UTF-8 SUBJECT nothing')).out).toBe('* SORT\r\n');
  });

  it('refuses an unknown charset', async () => {
    expect((await h.run('s5 SORT (DATE) ISO-2022-JP ALL')).result).toMatchObject({ status: 'NO', code: 'BADCHARSET (UTF-8 US-ASCII)' });
  });
});

// RFC 5256 §2.2, §2.3, §4 THREAD.
describe('THREAD', () => {
  it('REFERENCES: replies under their parent, same base subject grouped', async () => {
    expect((await h.run('t1 THREAD REFERENCES UTF-8 ALL')).out).toBe('* THREAD ((2)(5))(3 (1)(4))\r\n');
  });

  it('ORDEREDSUBJECT: by base subject, first message the parent', async () => {
    expect((await h.run('t2 THREAD ORDEREDSUBJECT UTF-8 ALL')).out).toBe('* THREAD (2 5)(3 (1)(4))\r\n');
  });

  it('searches first; UID THREAD answers UIDs; nothing matched is a bare * THREAD', async () => {
    expect((await h.run('t3 UID THREAD REFERENCES UTF-8 SUBJECT banana')).out).toBe('* THREAD (3 (1)(4))\r\n');
    expect((await h.run('t4 THREAD REFERENCES UTF-8 SUBJECT nothing')).out).toBe('* THREAD\r\n');
  });
});
