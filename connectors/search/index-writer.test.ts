/** The search index's writer thread (index-writer.ts), on real files and a real worker thread. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { NoWriterError, SearchWriterThread, WRITER_NICE } from './index-writer.ts';
import { SqliteSearchIndex } from './sqlite.ts';
import type { SearchDocument } from './search.ts';

const ALICE = 'alice@example.test';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-writer-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'search.db');
}

function doc(uid: number, body: string): SearchDocument {
  return { messageKey: `m${uid}`, userId: ALICE, mailboxId: 1, uid, receivedAt: uid, from: '', to: '', cc: '', subject: `s${uid}`, body, attachments: '', headers: `subject: s${uid}` };
}

describe('SearchWriterThread', () => {
  it('makes the writes in the order given, each durable and visible to another connection when it resolves', async () => {
    const file = tempFile();
    const reader = new SqliteSearchIndex({ path: file });
    const writer = new SearchWriterThread(file);
    cleanups.unshift(() => reader.close(), () => writer.close());
    // Given at once: the index, then the removal of one of its documents.
    await Promise.all([writer.run({ op: 'index', docs: [doc(1, 'a red lantern'), doc(2, 'a blue lantern')] }), writer.run({ op: 'remove', messageKeys: ['m1'] })]);
    expect(await reader.matchUids(ALICE, 1, { in: 'text', needle: 'lantern' })).toEqual(new Set([2]));
    await writer.run({ op: 'relocate', moves: [{ messageKey: 'm2', mailboxId: 2, uid: 7 }] });
    expect(await reader.matchUids(ALICE, 2, { in: 'text', needle: 'lantern' })).toEqual(new Set([7]));
  });

  it('runs at a lower priority than the other threads of the process (Linux: /proc)', async () => {
    const file = tempFile();
    const writer = new SearchWriterThread(file);
    cleanups.unshift(() => writer.close());
    await writer.run({ op: 'index', docs: [doc(1, 'a lantern')] }); // the thread is up
    // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value.
    const niceOf = (tid: string) => {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const nices = fs.readdirSync('/proc/self/task').map(niceOf);
    expect(nices.filter((n) => n === WRITER_NICE)).toHaveLength(1);
    expect(niceOf(String(process.pid))).toBe(0);
    expect(os.getPriority()).toBe(0);
  });

  it('fails every write with NoWriterError when its thread cannot open the file', async () => {
    const writer = new SearchWriterThread(path.join(os.tmpdir(), 'sluice-no-such-dir', 'x', 'search.db'));
    cleanups.unshift(() => writer.close());
    await expect(writer.run({ op: 'index', docs: [doc(1, 'x')] })).rejects.toBeInstanceOf(NoWriterError);
    await expect(writer.run({ op: 'remove', messageKeys: ['m1'] })).rejects.toBeInstanceOf(NoWriterError);
  });
});

describe('SqliteSearchIndex with a writer thread', () => {
  it('writes on its own connection once the thread is gone', async () => {
    const file = tempFile();
    const index = new SqliteSearchIndex({ path: file, writerThread: true });
    cleanups.unshift(() => index.close());
    await index.index([doc(1, 'first lantern')]);
    // The thread dies (as on an out-of-memory abort): the next writes are made here.
    const thread = (index as unknown as { writer: { worker: Worker } }).writer.worker;
    await thread.terminate();
    await index.index([doc(2, 'second lantern')]);
    await index.remove(['m1']);
    expect(await index.matchUids(ALICE, 1, { in: 'text', needle: 'lantern' })).toEqual(new Set([2]));
  });
});
