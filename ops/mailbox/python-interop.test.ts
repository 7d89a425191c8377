/**
 * Interoperability with another implementation: Python's standard `mailbox` module writes an
 * mbox and a Maildir, we import them through the pipeline, export them, and Python reads our
 * exports back.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { pino } from 'pino';
import { openApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { drainPipeline } from '../drain.ts';
import { schemaType } from '../../schemas/registry.ts';
import type { MailReceived } from '../../schemas/types.ts';
import { exportMailbox } from './export.ts';
import { importMailbox } from './import.ts';

interface PyMessage {
  folder: string;
  subject: string;
  messageId: string;
  flags: string;
  body: string;
}

const WRITE = `
import mailbox, sys, time
from email.message import EmailMessage

def make(n, prefix):
    m = EmailMessage()
    m['From'] = 'Bob <bob@example.test>'
    m['To'] = 'someone@example.test'
    m['Subject'] = f'{prefix} message {n}'
    m['Message-ID'] = f'<{prefix}{n}@python.test>'
    m['Date'] = f'Tue, 02 Jan 2024 10:0{n}:00 +0000'
    m.set_content(f'Hello {n}\\nsecond line\\n')
    return m

box = mailbox.mbox(sys.argv[1])
for n in range(5):
    m = mailbox.mboxMessage(make(n, 'mbox'))
    m.set_from('bob@example.test', time.gmtime(1704189600 + n))
    if n == 2:
        m.set_flags('RF')
    box.add(m)
box.flush(); box.close()

md = mailbox.Maildir(sys.argv[2], create=True)
sent = md.add_folder('Sent')
for n in range(5):
    m = mailbox.MaildirMessage(make(n, 'maildir'))
    if n == 1:
        m.set_subdir('cur'); m.set_flags('FS')
    (sent if n == 4 else md).add(m)
`;

const READ = `
import mailbox, sys, json
out = []
def add(folder, msg, flags):
    out.append({'folder': folder, 'subject': msg['Subject'], 'messageId': msg['Message-ID'], 'flags': ''.join(sorted(flags)), 'body': msg.get_payload()})
kind, where = sys.argv[1], sys.argv[2]
if kind == 'mbox':
    for msg in mailbox.mbox(where):
        add('', msg, msg.get_flags())
else:
    md = mailbox.Maildir(where, factory=None, create=False)
    for msg in md:
        add('', msg, msg.get_flags())
    for name in sorted(md.list_folders()):
        for msg in md.get_folder(name):
            add(name, msg, msg.get_flags())
out.sort(key=lambda m: (m['folder'], m['messageId']))
print(json.dumps(out))
`;

function python(script: string, ...args: string[]): string {
  return execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
}

const read = (kind: 'mbox' | 'maildir', where: string) => JSON.parse(python(READ, kind, where)) as PyMessage[];

describe('interoperability with Python mailbox', () => {
  it('imports what Python writes; Python reads back what we export', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
    const app = await openApp(loadConfig({ env: {}, overrides: { dataDir: path.join(dir, 'data') } }), pino({ level: 'silent' }));
    const env = { ...app, dir, encode: (v: MailReceived) => schemaType('MailReceived').toBuffer(v) };
    try {
      await app.store.addDomain('example.test');
      for (const user of ['alice@example.test', 'bob@example.test']) await app.store.addUser(user, 'x');
      await app.log.ensureTopics(app.topologies.flatMap((t) => [...t.topics.values()].map((topic) => ({ name: topic.name, partitions: topic.partitions }))));
      const mbox = path.join(env.dir, 'py.mbox');
      const maildir = path.join(env.dir, 'py-maildir');
      python(WRITE, mbox, maildir);
      const fromMbox = read('mbox', mbox);
      const fromMaildir = read('maildir', maildir);
      expect(fromMbox).toHaveLength(5);
      expect(fromMaildir).toHaveLength(5);
      expect(fromMbox.map((m) => m.flags)).toEqual(['', '', 'FR', '', '']);
      expect(fromMaildir.map((m) => [m.folder, m.flags])).toEqual([['', ''], ['', 'FS'], ['', ''], ['', ''], ['Sent', '']]);

      const alice = await importMailbox(env, 'alice@example.test', mbox);
      expect(alice).toEqual({ imported: 5, duplicates: 0, failed: 0, mailboxes: { INBOX: 5 } });
      const bob = await importMailbox(env, 'bob@example.test', maildir);
      expect(bob).toEqual({ imported: 5, duplicates: 0, failed: 0, mailboxes: { INBOX: 4, Sent: 1 } });
      await drainPipeline(app);
      expect(await app.store.countMessages()).toBe(10);

      // mbox → us → mbox: flags ride in the Status:/X-Status: fields, kept in the exact bytes.
      await exportMailbox(env, 'alice@example.test', { format: 'mbox', out: path.join(env.dir, 'alice-mbox') });
      expect(read('mbox', path.join(env.dir, 'alice-mbox', 'INBOX.mbox'))).toEqual(fromMbox);
      // mbox → us → Maildir: the flags became IMAP flags and then Maildir info.
      await exportMailbox(env, 'alice@example.test', { format: 'maildir', out: path.join(env.dir, 'alice-maildir') });
      expect(read('maildir', path.join(env.dir, 'alice-maildir'))).toEqual(fromMbox.map((m) => ({ ...m, flags: m.flags === 'FR' ? 'FS' : m.flags })));
      // Maildir → us → Maildir: folders and flags.
      await exportMailbox(env, 'bob@example.test', { format: 'maildir', out: path.join(env.dir, 'bob-maildir') });
      expect(read('maildir', path.join(env.dir, 'bob-maildir'))).toEqual(fromMaildir);
      // Maildir → us → mbox: the messages (mbox export adds no Status: fields, so no flags).
      await exportMailbox(env, 'bob@example.test', { format: 'mbox', out: path.join(env.dir, 'bob-mbox') });
      const bobInbox = read('mbox', path.join(env.dir, 'bob-mbox', 'INBOX.mbox'));
      expect(bobInbox).toEqual(fromMaildir.filter((m) => m.folder === '').map((m) => ({ ...m, flags: '' })));
      expect(read('mbox', path.join(env.dir, 'bob-mbox', 'Sent.mbox'))).toEqual(fromMaildir.filter((m) => m.folder === 'Sent').map((m) => ({ ...m, folder: '' })));
    } finally {
      await app.close();
    }
  });
});
