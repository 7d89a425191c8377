/** The SMTP listeners' log append thread (append-thread.ts), on a real log file and a real worker thread. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { startAppendThread } from './append-thread.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function logFile(): Promise<{ file: string; log: EmbeddedLog }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-append-'));
  const file = path.join(dir, 'log.db');
  const log = new EmbeddedLog({ path: file });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  cleanups.unshift(() => log.close());
  await log.ensureTopics([
    { name: 'mail.received', partitions: 2 },
    { name: 'mail.outbound', partitions: 1 },
  ]);
  return { file, log };
}

describe('startAppendThread', () => {
  it('appends on its own connection, says which topics it appended to, and keeps the order of concurrent calls', async () => {
    const { file, log } = await logFile();
    const told: string[][] = [];
    const thread = await startAppendThread({ path: file, logger: pino({ level: 'silent' }), appended: (topics) => told.push(topics.sort()) });
    cleanups.unshift(() => thread.stop());

    const positions = await Promise.all(
      [1, 2, 3].map((n) =>
        thread.produce([
          { topic: 'mail.received', key: 'u1', value: Buffer.from(`in-${n}`), partition: 0 },
          { topic: 'mail.outbound', key: 'd', value: Buffer.from(`out-${n}`) },
        ]),
      ),
    );
    expect(positions.map((p) => p.map((x) => `${x.topic}/${x.partition}@${x.offset}`))).toEqual([
      ['mail.received/0@0', 'mail.outbound/0@0'],
      ['mail.received/0@1', 'mail.outbound/0@1'],
      ['mail.received/0@2', 'mail.outbound/0@2'],
    ]);
    expect(told).toEqual([
      ['mail.outbound', 'mail.received'],
      ['mail.outbound', 'mail.received'],
      ['mail.outbound', 'mail.received'],
    ]);
    // Durable and visible to another connection (the stages') once it resolved.
    expect((await log.read('mail.received', 0, 0, 10)).map((r) => r.value.toString())).toEqual(['in-1', 'in-2', 'in-3']);
  });

  it('refuses appends once stopping, and fails to start on a file it cannot open', async () => {
    const { file } = await logFile();
    const thread = await startAppendThread({ path: file, logger: pino({ level: 'silent' }), appended: () => undefined });
    await thread.stop();
    await expect(thread.produce([{ topic: 'mail.received', key: 'u1', value: Buffer.from('late') }])).rejects.toThrow(/stopping/);
    await expect(
      startAppendThread({ path: path.join(os.tmpdir(), 'sluice-no-such-dir', 'x', 'log.db'), logger: pino({ level: 'silent' }), appended: () => undefined }),
    ).rejects.toThrow(/failed to start/);
  });
});
