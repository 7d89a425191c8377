import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { DeliverRequest } from '../../connectors/store/store.ts';
import { exportMailbox, mboxPath } from './export.ts';
import { importMailbox } from './import.ts';
import { readMaildir } from './maildir.ts';
import { openMboxWriter, readMbox } from './mbox.ts';
import { openTestEnv, receivedRecords, storeReceived, type TestEnv } from './test-env.ts';

const ALICE = 'alice@example.test';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function withEnv(fn: (env: TestEnv) => Promise<void>): Promise<void> {
  const env = await openTestEnv();
  try {
    await fn(env);
  } finally {
    await env.close();
  }
}

function request(key: string, mailbox: string, blob: string, size: number, flags: string[] = [], parts: DeliverRequest['body']['parts'] = []): DeliverRequest {
  return {
    messageKey: key,
    userId: ALICE,
    mailbox,
    flags,
    receivedAt: Date.UTC(2024, 2, 1, 8, 0, 0),
    size,
    body: { skeletonBlob: blob, parts },
    messageId: `<${key}@example.test>`,
    inReplyTo: null,
    references: [],
    subject: key,
    from: [{ name: 'Bob', address: 'bob@example.test' }],
    to: [],
    cc: [],
    date: null,
  };
}

/** Fills Alice's store the way the store stage does: bodies in the blob store, then `deliver`. */
async function fill(env: TestEnv): Promise<{ mailbox: string; bytes: Buffer; flags: string[] }[]> {
  const plain = (n: string, body: string) => Buffer.from(`Message-ID: <${n}@example.test>\r\nSubject: ${n}\r\n\r\n${body}\r\n`);
  const a = plain('a', 'From the top\r\n>From quoted');
  const b = plain('b', 'second');
  const c = plain('c', 'sent one');
  // A message whose attachment body was split off: skeleton + part reassembled on export.
  const attachment = Buffer.from('QUJD'.repeat(100) + '\r\n');
  const head = Buffer.from('Message-ID: <d@example.test>\r\nSubject: d\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Transfer-Encoding: base64\r\n\r\n');
  const tail = Buffer.from('--x--\r\n');
  const d = Buffer.concat([head, attachment, tail]);
  const skeleton = await env.blobs.put(Buffer.concat([head, tail]));
  const part = await env.blobs.put(attachment);
  await env.store.deliver([
    request('a', 'INBOX', await env.blobs.put(a), a.length, ['\\Seen']),
    request('b', 'INBOX', await env.blobs.put(b), b.length),
    request('c', 'Sent', await env.blobs.put(c), c.length, ['\\Seen', '\\Answered']),
    request('d', 'INBOX', skeleton, d.length, ['\\Flagged'], [{ offset: head.length, length: attachment.length, blob: part }]),
  ]);
  return [
    { mailbox: 'INBOX', bytes: a, flags: ['\\Seen'] },
    { mailbox: 'INBOX', bytes: b, flags: [] },
    { mailbox: 'INBOX', bytes: d, flags: ['\\Flagged'] },
    { mailbox: 'Sent', bytes: c, flags: ['\\Answered', '\\Seen'] },
  ];
}

describe('exportMailbox', () => {
  it('writes one mbox file per mailbox, messages in UID order with their exact bytes', () =>
    withEnv(async (env) => {
      const expected = await fill(env);
      const out = path.join(env.dir, 'export');
      const progress: [number, number][] = [];
      const result = await exportMailbox(env, ALICE, { format: 'mbox', out, onProgress: (d, t) => progress.push([d, t]) });
      const mailboxes = await env.store.mailboxes(ALICE);
      expect(result.messages).toBe(4);
      expect(result.mailboxes).toBe(mailboxes.length);
      expect(progress.at(-1)).toEqual([4, 4]);
      expect(fs.readdirSync(out).sort()).toEqual(mailboxes.map((m) => `${m.name}.mbox`).sort());
      expect(result.bytes).toBe(fs.readdirSync(out).reduce((sum, f) => sum + fs.statSync(path.join(out, f)).size, 0));
      for (const name of ['INBOX', 'Sent']) {
        const read = await collect(readMbox(path.join(out, `${name}.mbox`)));
        expect(read.map((m) => m.bytes)).toEqual(expected.filter((e) => e.mailbox === name).map((e) => e.bytes));
        expect(read.every((m) => m.sender === 'bob@example.test' && m.date?.getTime() === Date.UTC(2024, 2, 1, 8))).toBe(true);
      }
      expect(fs.statSync(path.join(out, 'Trash.mbox')).size).toBe(0);
    }));

  it('writes a Maildir with folders and flags', () =>
    withEnv(async (env) => {
      const expected = await fill(env);
      const out = path.join(env.dir, 'Maildir');
      const result = await exportMailbox(env, ALICE, { format: 'maildir', out });
      expect(result.messages).toBe(4);
      const read = await collect(readMaildir(out));
      expect(read.map((m) => ({ mailbox: m.mailbox, bytes: m.bytes, flags: [...m.flags].sort() }))).toEqual(expected);
      expect(read.every((m) => m.mtime.getTime() === Date.UTC(2024, 2, 1, 8))).toBe(true);
      expect(fs.existsSync(path.join(out, '.Archive', 'cur'))).toBe(true);
    }));

  it('fails clearly on an unknown user', () =>
    withEnv(async (env) => {
      await expect(exportMailbox(env, 'nobody@example.test', { format: 'mbox', out: path.join(env.dir, 'x') })).rejects.toThrow('no such user');
    }));

  it('import then export gives back the same messages, mailboxes and flags', () =>
    withEnv(async (env) => {
      const mbox = path.join(env.dir, 'in.mbox');
      const originals = [1, 2, 3].map((n) => Buffer.from(`Message-ID: <r${n}@x>\r\nSubject: ${n}\r\n${n === 2 ? 'Status: RO\r\n' : ''}\r\nFrom ${n}\r\n`));
      const w = await openMboxWriter(mbox);
      for (const m of originals) await w.write(m);
      await w.close();
      expect((await importMailbox(env, ALICE, mbox)).imported).toBe(3);
      await storeReceived(env, (await receivedRecords(env)).map((r) => r.value));

      const out = path.join(env.dir, 'Maildir');
      await exportMailbox(env, ALICE, { format: 'maildir', out });
      const read = await collect(readMaildir(out));
      expect(read.map((m) => m.bytes)).toEqual(originals);
      expect(read.map((m) => m.flags)).toEqual([[], ['\\Seen'], []]);

      // And the export imports back into another account unchanged.
      await env.store.addUser('bob@example.test', 'x');
      const again = await importMailbox(env, 'bob@example.test', out);
      expect(again).toEqual({ imported: 3, duplicates: 0, failed: 0, mailboxes: { INBOX: 3 } });
    }));

  it('names mbox files after mailboxes, hierarchy as folders, without unsafe names', () => {
    expect(mboxPath('/o', 'INBOX')).toBe('/o/INBOX.mbox');
    expect(mboxPath('/o', 'Work/Projects')).toBe('/o/Work/Projects.mbox');
    expect(mboxPath('/o', '../x')).toBe('/o/__/x.mbox');
    expect(mboxPath('/o', 'a:b')).toBe('/o/a_b.mbox');
  });
});
