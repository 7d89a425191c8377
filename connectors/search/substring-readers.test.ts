import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteSearchIndex } from './sqlite.ts';
import { NoReaderError, SubstringReaders } from './substring-readers.ts';
import type { SubstringMatch } from './substring.ts';

const ALICE = 'alice@example.test';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** An index file (written on this thread) holding `count` messages of Alice's mailbox 1. */
async function indexOf(count: number): Promise<{ file: string; index: SqliteSearchIndex }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-readers-'));
  const file = path.join(dir, 'search.db');
  const index = new SqliteSearchIndex({ path: file });
  cleanups.push(async () => {
    await index.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const words = ['budget', 'walrus', 'invoice', 'harbour', 'lantern'];
  await index.index(
    Array.from({ length: count }, (_, i) => ({
      messageKey: `k${i + 1}`, userId: ALICE, mailboxId: 1, uid: i + 1, receivedAt: i, from: '', to: '', cc: '', subject: `note ${i + 1}`,
      body: `about the ${words[i % words.length]} and the ${words[(i * 3) % words.length]}`, attachments: '',
      headers: `subject: note ${i + 1}\nfrom: sender${i % 7}@example.test`,
    })),
  );
  return { file, index };
}

describe('SubstringReaders', () => {
  it('answers on its threads what the index answers on this one, for concurrent requests', async () => {
    const { file, index } = await indexOf(60);
    const readers = new SubstringReaders(file, 2);
    cleanups.unshift(() => readers.close());
    const matches: SubstringMatch[] = [
      { in: 'text', needle: 'budget' },
      { in: 'text', needle: 'SENDER3@' },
      { in: 'body', needle: 'the walrus and' },
      { in: 'header', field: 'subject', needle: 'note 1' },
      { in: 'header', field: 'x-missing', needle: '' },
      { in: 'text', needle: 'no such text' },
    ];
    const expected = await Promise.all(matches.map((m) => index.matchUids(ALICE, 1, m)));
    expect(expected[0].size).toBe(12); // the reference is not empty: budget is in 1 of every 5 bodies
    const answered = await Promise.all([...matches, ...matches].map((m) => readers.match(ALICE, 1, m)));
    expect(answered).toEqual([...expected, ...expected]);
    expect(readers.size).toBe(2); // answered by the threads, none lost on the way
    await readers.close();
    expect(readers.size).toBe(0);
    await expect(readers.match(ALICE, 1, matches[0])).rejects.toBeInstanceOf(NoReaderError);
  });

  it('a thread that cannot open the file leaves the pool, and matches reject with NoReaderError', async () => {
    const readers = new SubstringReaders(path.join(os.tmpdir(), 'sluice-no-such-dir', 'search.db'), 1);
    cleanups.push(() => readers.close());
    await expect(readers.match(ALICE, 1, { in: 'text', needle: 'budget' })).rejects.toBeInstanceOf(NoReaderError);
    expect(readers.size).toBe(0);
  });

  it('an index with reader threads answers through them and sees what is indexed after they started', async () => {
    const { file } = await indexOf(10);
    const index = new SqliteSearchIndex({ path: file, readers: 1 });
    cleanups.unshift(() => index.close());
    expect([...(await index.matchUids(ALICE, 1, { in: 'text', needle: 'lantern' }))].sort((a, b) => a - b)).toEqual([4, 5, 9, 10]);
    await index.index([
      { messageKey: 'late', userId: ALICE, mailboxId: 1, uid: 11, receivedAt: 11, from: '', to: '', cc: '', subject: 's', body: 'a lantern late', attachments: '', headers: 'subject: s' },
    ]);
    expect([...(await index.matchUids(ALICE, 1, { in: 'text', needle: 'lantern' }))].sort((a, b) => a - b)).toEqual([4, 5, 9, 10, 11]);
  });
});
