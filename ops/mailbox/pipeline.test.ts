/**
 * Import and export through the real receiving pipeline: import writes mail.received, the
 * inbound topology (parse → split-attachments → store → index → push) runs until it has caught
 * up, and export reads back what the store stage stored.
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { openApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { drainPipeline } from '../drain.ts';
import { schemaType } from '../../schemas/registry.ts';
import type { MailReceived } from '../../schemas/types.ts';
import { exportMailbox } from './export.ts';
import { importMailbox } from './import.ts';
import { openMaildirWriter, readMaildir } from './maildir.ts';
import { openMboxWriter, readMbox } from './mbox.ts';

const ALICE = 'alice@example.test';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function message(n: number, extra = ''): Buffer {
  return Buffer.from(
    `From: Bob <bob@example.test>\r\nTo: ${ALICE}\r\nSubject: pipeline ${n}\r\nMessage-ID: <p${n}@example.test>\r\n` +
      `Date: Wed, 3 Jan 2024 09:00:0${n} +0000\r\n${extra}\r\nbody ${n}\r\nFrom the quoting's point of view\r\n`,
  );
}

/** A message with an attachment above the split threshold (128 KiB), stored as skeleton + part. */
function withAttachment(n: number): Buffer {
  const b64 = Buffer.alloc(200 * 1024, n).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    `From: Bob <bob@example.test>\r\nTo: ${ALICE}\r\nSubject: big ${n}\r\nMessage-ID: <big${n}@example.test>\r\n` +
      `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n` +
      `--b\r\nContent-Type: application/octet-stream; name="x.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--b--\r\n`,
  );
}

describe('import and export through the pipeline', () => {
  it('stores imported mail exactly once and exports the same bytes, folders and flags', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
    const app = await openApp(loadConfig({ env: {}, overrides: { dataDir: path.join(dir, 'data') } }), pino({ level: 'silent' }));
    try {
      await app.store.addDomain('example.test');
      await app.store.addUser(ALICE, 'x');
      await app.log.ensureTopics(app.topologies.flatMap((t) => [...t.topics.values()].map((topic) => ({ name: topic.name, partitions: topic.partitions }))));
      const type = schemaType('MailReceived');
      const deps = { ...app, encode: (v: MailReceived) => type.toBuffer(v) };

      const mbox = path.join(dir, 'in.mbox');
      const inbox = [message(1), withAttachment(2), message(3, 'Status: RO\r\nX-Status: F\r\n')];
      const w = await openMboxWriter(mbox);
      for (const m of inbox) await w.write(m, { sender: 'bob@example.test', date: Date.UTC(2024, 0, 3) });
      await w.close();
      const maildir = path.join(dir, 'Maildir');
      const md = await openMaildirWriter(maildir);
      await md.write('Sent', message(4), { flags: ['\\Seen', '\\Answered'] });
      await md.write('INBOX', message(1)); // already in the mbox: a duplicate by Message-ID

      expect(await importMailbox(deps, ALICE, mbox)).toEqual({ imported: 3, duplicates: 0, failed: 0, mailboxes: { INBOX: 3 } });
      expect(await importMailbox(deps, ALICE, maildir)).toEqual({ imported: 2, duplicates: 0, failed: 0, mailboxes: { Sent: 1, INBOX: 1 } });
      await drainPipeline(app);
      // message(1) came twice before the store ran; the Maildir copy has the same bytes, so the same key.
      expect(await app.store.countMessages(ALICE)).toBe(4);

      // A second import, now that the store has them: nothing new.
      expect(await importMailbox(deps, ALICE, mbox)).toEqual({ imported: 0, duplicates: 3, failed: 0, mailboxes: {} });
      expect(await importMailbox(deps, ALICE, maildir)).toEqual({ imported: 0, duplicates: 2, failed: 0, mailboxes: {} });

      const big = (await app.store.messages((await app.store.mailbox(ALICE, 'INBOX'))!.id)).find((m) => m.subject === 'big 2');
      expect(big?.body.parts.length).toBe(1); // really split by the pipeline

      await exportMailbox(app, ALICE, { format: 'mbox', out: path.join(dir, 'out-mbox') });
      expect((await collect(readMbox(path.join(dir, 'out-mbox', 'INBOX.mbox')))).map((m) => m.bytes)).toEqual(inbox);
      expect((await collect(readMbox(path.join(dir, 'out-mbox', 'Sent.mbox')))).map((m) => m.bytes)).toEqual([message(4)]);

      await exportMailbox(app, ALICE, { format: 'maildir', out: path.join(dir, 'out-maildir') });
      const read = await collect(readMaildir(path.join(dir, 'out-maildir')));
      expect(read.map((m) => [m.mailbox, m.bytes, [...m.flags].sort()])).toEqual([
        ['INBOX', inbox[0], []],
        ['INBOX', inbox[1], []],
        ['INBOX', inbox[2], ['\\Flagged', '\\Seen']],
        ['Sent', message(4), ['\\Answered', '\\Seen']],
      ]);
    } finally {
      await app.close();
    }
  });
});
