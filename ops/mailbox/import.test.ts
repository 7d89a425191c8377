import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import type { ProduceRecord } from '../../connectors/log/log.ts';
import { importMailbox } from './import.ts';
import { openMaildirWriter } from './maildir.ts';
import { openMboxWriter } from './mbox.ts';
import { openTestEnv, receivedRecords, storeReceived, type TestEnv } from './test-env.ts';

const ALICE = 'alice@example.test';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function message(n: number, extra: string[] = [], messageId = `<m${n}@example.test>`): Buffer {
  const lines = [
    `From: Bob <bob@example.test>`,
    `To: ${ALICE}`,
    `Subject: message ${n}`,
    ...(messageId ? [`Message-ID: ${messageId}`] : []),
    `Date: Tue, 2 Jan 2024 10:0${n}:00 +0000`,
    ...extra,
    '',
    `body ${n}`,
    'From the mbox quoting point of view this line matters',
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}

async function writeMbox(file: string, messages: readonly Buffer[], lf = true): Promise<void> {
  const w = await openMboxWriter(file);
  for (const m of messages) await w.write(m, { sender: 'bob@example.test', date: Date.UTC(2024, 0, 3) });
  await w.close();
  if (!lf) fs.writeFileSync(file, fs.readFileSync(file, 'latin1').replace(/\n/g, '\r\n'), 'latin1');
}

async function withEnv(fn: (env: TestEnv) => Promise<void>): Promise<void> {
  const env = await openTestEnv();
  try {
    await fn(env);
  } finally {
    await env.close();
  }
}

describe('importMailbox', () => {
  it('puts each mbox message in the blob store and a durable mail.received record on the log', () =>
    withEnv(async (env) => {
      const messages = [message(1), message(2, ['Status: RO', 'X-Status: AF']), message(3), message(4, [], ''), message(5)];
      const file = path.join(env.dir, 'in.mbox');
      await writeMbox(file, messages, false); // a CRLF mbox file
      const progress: [number, number | undefined][] = [];
      let produces = 0;
      const log = new Proxy(env.log, {
        get(target, prop, receiver) {
          if (prop !== 'produce') return Reflect.get(target, prop, receiver) as unknown;
          return (records: readonly ProduceRecord[]) => {
            produces++;
            return target.produce(records);
          };
        },
      });
      const result = await importMailbox({ ...env, log }, ALICE, file, { batchSize: 2, onProgress: (d, t) => progress.push([d, t]) });
      expect(result).toEqual({ imported: 5, duplicates: 0, failed: 0, mailboxes: { INBOX: 5 } });
      expect(produces).toBe(3);
      expect(progress.at(0)).toEqual([0, 5]);
      expect(progress.at(-1)).toEqual([5, 5]);

      const records = await receivedRecords(env);
      expect(records).toHaveLength(5);
      expect(new Set(records.map((r) => r.partition)).size).toBe(1); // keyed by user: one partition, in order
      expect(records.map((r) => r.value.size)).toEqual(messages.map((m) => m.length));
      for (const [i, r] of records.entries()) {
        const hash = sha(messages[i]);
        expect(r.key).toBe(ALICE);
        expect(r.value).toEqual({
          ingressId: `import:${hash}`,
          userId: ALICE,
          recipient: ALICE,
          mailFrom: 'bob@example.test',
          source: 'import',
          remoteAddress: '',
          helo: '',
          receivedAt: Date.UTC(2024, 0, 2, 10, i + 1),
          rawBlob: hash,
          size: messages[i].length,
          mailbox: 'INBOX',
          flags: i === 1 ? ['\\Answered', '\\Flagged', '\\Seen'] : [],
        });
        expect(await env.blobs.get(hash)).toEqual(messages[i]);
      }
    }));

  it('imports a Maildir with Maildir++ folders and info flags; receivedAt falls back to the file time', () =>
    withEnv(async (env) => {
      const root = path.join(env.dir, 'Maildir');
      const w = await openMaildirWriter(root);
      const noDate = Buffer.from('Subject: no date\r\nMessage-ID: <nd@x>\r\n\r\nhi\r\n');
      await w.write('INBOX', message(1), { flags: ['\\Seen'] });
      await w.write('Sent', message(2), { flags: ['\\Seen', '\\Answered'] });
      await w.write('Junk', noDate, { date: Date.UTC(2020, 1, 2) });
      fs.writeFileSync(path.join(root, 'new', '1.1_1.empty'), '');
      const result = await importMailbox(env, ALICE, root);
      expect(result).toEqual({ imported: 3, duplicates: 0, failed: 1, mailboxes: { INBOX: 1, Sent: 1, Junk: 1 } });
      const byBlob = new Map((await receivedRecords(env)).map((r) => [r.value.rawBlob, r.value]));
      expect(byBlob.get(sha(message(1)))).toMatchObject({ mailbox: 'INBOX', flags: ['\\Seen'], mailFrom: '' });
      expect(byBlob.get(sha(message(2)))).toMatchObject({ mailbox: 'Sent', flags: ['\\Answered', '\\Seen'] });
      expect(byBlob.get(sha(noDate))).toMatchObject({ mailbox: 'Junk', flags: [], receivedAt: Date.UTC(2020, 1, 2) });
    }));

  it('says when a folder has no mailbox of that name yet (the store then creates it)', () =>
    withEnv(async (env) => {
      const root = path.join(env.dir, 'Maildir');
      const w = await openMaildirWriter(root);
      await w.write('Work/Projects', message(1));
      await w.write('Sent', message(2));
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
      const result = await importMailbox({ ...env, logger }, ALICE, root);
      expect(result.mailboxes).toEqual({ Sent: 1, 'Work/Projects': 1 });
      expect(lines.map((l) => (JSON.parse(l) as { mailbox: string }).mailbox)).toEqual(['Work/Projects']);
    }));

  it('skips duplicates within one run by Message-ID and by content', () =>
    withEnv(async (env) => {
      const file = path.join(env.dir, 'dups.mbox');
      const noId = message(3, [], '');
      const sameIdOtherBytes = message(1, ['X-Copy: yes']);
      await writeMbox(file, [message(1), sameIdOtherBytes, noId, noId, message(2)]);
      const result = await importMailbox(env, ALICE, file);
      expect(result).toMatchObject({ imported: 3, duplicates: 2, failed: 0 });
      expect((await receivedRecords(env)).map((r) => r.value.rawBlob)).toEqual([sha(message(1)), sha(noId), sha(message(2))]);
    }));

  it('a re-import after the store stage ran produces no record and reports duplicates', () =>
    withEnv(async (env) => {
      const file = path.join(env.dir, 'in.mbox');
      await writeMbox(file, [message(1), message(2, [], ''), message(3)]);
      await importMailbox(env, ALICE, file);
      const first = await receivedRecords(env);
      expect(await storeReceived(env, first.map((r) => r.value))).toBe(3);

      const again = await importMailbox(env, ALICE, file);
      expect(again).toEqual({ imported: 0, duplicates: 3, failed: 0, mailboxes: {} });
      expect(await receivedRecords(env)).toHaveLength(3);
    }));

  it('a re-import before the store stage ran is de-duplicated by the store (same ingress ids)', () =>
    withEnv(async (env) => {
      const file = path.join(env.dir, 'in.mbox');
      await writeMbox(file, [message(1), message(2, [], '')]);
      await importMailbox(env, ALICE, file);
      await importMailbox(env, ALICE, file);
      const records = await receivedRecords(env);
      expect(records).toHaveLength(4);
      expect(await storeReceived(env, records.map((r) => r.value))).toBe(2);
      expect(await env.store.countMessages(ALICE)).toBe(2);
    }));

  it('fails clearly on an unknown user, a missing path or a directory that is no Maildir', () =>
    withEnv(async (env) => {
      const file = path.join(env.dir, 'in.mbox');
      await writeMbox(file, [message(1)]);
      await expect(importMailbox(env, 'nobody@example.test', file)).rejects.toThrow('no such user: nobody@example.test');
      await expect(importMailbox(env, ALICE, path.join(env.dir, 'missing'))).rejects.toThrow(/no such file or directory/);
      await expect(importMailbox(env, ALICE, env.dir)).rejects.toThrow(/not a Maildir/);
      expect(await receivedRecords(env)).toEqual([]);
    }));
});
