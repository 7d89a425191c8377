/**
 * The prefixed log keeps the Log contract (the shared suite, over the embedded log) and keeps two
 * prefixes on one underlying log apart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runLogConformance } from './conformance.ts';
import { EmbeddedLog } from './embedded.ts';
import { PrefixedLog } from './prefixed.ts';

const dirs: string[] = [];
function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-prefixed-'));
  dirs.push(dir);
  return path.join(dir, 'log.db');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

runLogConformance('prefixed (over embedded)', async () => {
  const file = tempFile();
  const opened: EmbeddedLog[] = [new EmbeddedLog({ path: file })];
  return {
    log: new PrefixedLog(opened[0], 'run1.'),
    reopen: async () => {
      const log = new EmbeddedLog({ path: file });
      opened.push(log);
      return new PrefixedLog(log, 'run1.');
    },
    cleanup: async () => {
      for (const log of opened) await log.close();
    },
  };
});

describe('PrefixedLog', () => {
  it('keeps two prefixes on one log apart: topics, records, groups and lag', async () => {
    const inner = new EmbeddedLog({ path: tempFile() });
    try {
      const a = new PrefixedLog(inner, 'a.');
      const b = new PrefixedLog(inner, 'b.');
      await a.ensureTopics([{ name: 'mail.received', partitions: 2 }]);
      await b.ensureTopics([{ name: 'mail.received', partitions: 2 }]);
      const [pa] = await a.produce([{ topic: 'mail.received', key: 'alice', value: Buffer.from('for a') }]);
      expect(pa.topic).toBe('mail.received');
      expect((await inner.topics()).map((t) => t.name).sort()).toEqual(['a.mail.received', 'b.mail.received']);
      expect((await a.topics()).map((t) => t.name)).toEqual(['mail.received']);

      const cb = await b.consumer('store', ['mail.received']);
      expect(await cb.poll(10, 50)).toEqual([]);
      const ca = await a.consumer('store', ['mail.received']);
      const [record] = await ca.poll(10, 1000);
      expect(record).toMatchObject({ topic: 'mail.received', key: 'alice' });
      await ca.commit([], [{ topic: 'mail.received', partition: record.partition, offset: record.offset + 1 }]);
      expect(await inner.committed('a.store', 'a.mail.received')).toEqual(record.partition === 0 ? [1, 0] : [0, 1]);
      expect(await inner.committed('b.store', 'b.mail.received')).toEqual([0, 0]);
      expect((await a.lag('store', ['mail.received'])).every((l) => l.group === 'store' && l.topic === 'mail.received' && l.records === 0)).toBe(true);
      await ca.close();
      await cb.close();
    } finally {
      await inner.close();
    }
  });
});
