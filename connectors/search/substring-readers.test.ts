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
    await readers.whenStarted();
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
    const answered = await Promise.all([...matches, ...matches].map((m) => readers.match(ALICE, 1, m)!));
    expect(answered).toEqual([...expected, ...expected]);
    expect(readers.size).toBe(2); // answered by the threads, none lost on the way
    await readers.close();
    expect(readers.size).toBe(0);
    expect(readers.match(ALICE, 1, matches[0])).toBeNull();
  });

  it('has no answer before its threads are ready, nor once they are gone (the caller answers then)', async () => {
    const { file } = await indexOf(5);
    const readers = new SubstringReaders(file, 1);
    cleanups.unshift(() => readers.close());
    expect(readers.match(ALICE, 1, { in: 'text', needle: 'budget' })).toBeNull(); // still loading
    await readers.whenStarted();
    expect(await readers.match(ALICE, 1, { in: 'text', needle: 'budget' })).toEqual(new Set([1]));
    const broken = new SubstringReaders(path.join(os.tmpdir(), 'sluice-no-such-dir', 'search.db'), 1);
    cleanups.push(() => broken.close());
    await broken.whenStarted();
    expect(broken.size).toBe(0);
    expect(broken.match(ALICE, 1, { in: 'text', needle: 'budget' })).toBeNull();
  });

  it('a thread that ends leaves the pool: what it was asked fails with NoReaderError, and the others answer', async () => {
    const { file } = await indexOf(5);
    const readers = new SubstringReaders(file, 2);
    cleanups.unshift(() => readers.close());
    await readers.whenStarted();
    const threads = (readers as unknown as { readers: { worker: { terminate(): Promise<number> } }[] }).readers;
    const first = threads[0];
    // Asked of the first thread (both idle: the first is chosen), which ends before it may answer or after.
    const asked = readers.match(ALICE, 1, { in: 'text', needle: 'budget' })!;
    await first.worker.terminate();
    await asked.then(
      (uids) => expect(uids).toEqual(new Set([1])),
      (err: unknown) => expect(err).toBeInstanceOf(NoReaderError),
    );
    expect(readers.size).toBe(1);
    expect(await readers.match(ALICE, 1, { in: 'text', needle: 'budget' })).toEqual(new Set([1]));
  });

  it('an index with reader threads answers through them and sees what is indexed after they started', async () => {
    const { file } = await indexOf(10);
    const index = new SqliteSearchIndex({ path: file, readers: 1 });
    cleanups.unshift(() => index.close());
    // The first match starts the threads and is answered here meanwhile.
    expect([...(await index.matchUids(ALICE, 1, { in: 'text', needle: 'lantern' }))].sort((a, b) => a - b)).toEqual([4, 5, 9, 10]);
    await index.startReaders();
    expect([...(await index.matchUids(ALICE, 1, { in: 'text', needle: 'lantern' }))].sort((a, b) => a - b)).toEqual([4, 5, 9, 10]);
    await index.index([
      { messageKey: 'late', userId: ALICE, mailboxId: 1, uid: 11, receivedAt: 11, from: '', to: '', cc: '', subject: 's', body: 'a lantern late', attachments: '', headers: 'subject: s' },
    ]);
    expect([...(await index.matchUids(ALICE, 1, { in: 'text', needle: 'lantern' }))].sort((a, b) => a - b)).toEqual([4, 5, 9, 10, 11]);
  });
});
