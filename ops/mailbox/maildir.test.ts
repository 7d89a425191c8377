import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flagsFromName, folderFromMailbox, infoFromFlags, isMaildir, listMaildir, mailboxFromFolder, openMaildirWriter, readMaildir } from './maildir.ts';
import { decodeMutf7, encodeMutf7 } from './mutf7.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('Maildir flags and folder names', () => {
  it('maps info letters to IMAP flags and back (P ignored, letters in ASCII order)', () => {
    expect(flagsFromName('123.4_5.host:2,FRS')).toEqual(['\\Flagged', '\\Answered', '\\Seen']);
    expect(flagsFromName('123.4_5.host:2,DPT')).toEqual(['\\Draft', '\\Deleted']);
    expect(flagsFromName('123.4_5.host!2,S')).toEqual(['\\Seen']);
    expect(flagsFromName('123.4_5.host')).toEqual([]);
    expect(infoFromFlags(['\\Seen', '\\Flagged', '$Junk', '\\answered'])).toBe(':2,FRS');
    expect(infoFromFlags([])).toBe(':2,');
  });

  it('maps Maildir++ folders to our mailbox names and back', () => {
    expect(mailboxFromFolder('.Sent')).toBe('Sent');
    expect(mailboxFromFolder('.Sent Messages')).toBe('Sent');
    expect(mailboxFromFolder('.Spam')).toBe('Junk');
    expect(mailboxFromFolder('.Deleted Items')).toBe('Trash');
    expect(mailboxFromFolder('.Work.Projects')).toBe('Work/Projects');
    expect(mailboxFromFolder('.Caf&AOk-')).toBe('Café');
    expect(folderFromMailbox('INBOX')).toBe('');
    expect(folderFromMailbox('Sent')).toBe('.Sent');
    expect(folderFromMailbox('Work/Projects')).toBe('.Work.Projects');
    expect(folderFromMailbox('Café & Co')).toBe('.Caf&AOk- &- Co');
  });

  it('encodes modified UTF-7 (RFC 3501 §5.1.3)', () => {
    for (const name of ['INBOX', 'Entwürfe', '台北', 'a&b', '😀 smile', '~peter/mail/台北/日本語']) {
      expect(decodeMutf7(encodeMutf7(name))).toBe(name);
    }
    // The RFC's example.
    expect(encodeMutf7('~peter/mail/台北/日本語')).toBe('~peter/mail/&U,BTFw-/&ZeVnLIqe-');
  });
});

describe('Maildir reader and writer', () => {
  it('round-trips messages with flags and folders, delivering through tmp/ into cur/', async () => {
    const root = path.join(tmp(), 'Maildir');
    const writer = await openMaildirWriter(root);
    const date = new Date(Date.UTC(2022, 5, 1, 12, 0, 0));
    const messages = [
      { mailbox: 'INBOX', bytes: Buffer.from('Subject: a\r\n\r\nFrom here\r\n'), flags: ['\\Seen'] },
      { mailbox: 'INBOX', bytes: Buffer.from('Subject: b\r\n\r\nb\r\n'), flags: [] },
      { mailbox: 'Sent', bytes: Buffer.from('Subject: c\r\n\r\nc\r\n'), flags: ['\\Seen', '\\Answered', '\\Flagged'] },
      { mailbox: 'Work/Projects', bytes: Buffer.from('Subject: d\r\n\r\nd\r\n'), flags: ['\\Draft', '\\Deleted'] },
    ];
    for (const m of messages) await writer.write(m.mailbox, m.bytes, { flags: m.flags, date });
    await writer.ensureFolder('Trash');

    expect(await isMaildir(root)).toBe(true);
    for (const folder of ['', '.Sent', '.Work.Projects', '.Trash']) {
      for (const sub of ['cur', 'new', 'tmp']) expect(fs.statSync(path.join(root, folder, sub)).isDirectory()).toBe(true);
      expect(fs.readdirSync(path.join(root, folder, 'tmp'))).toEqual([]);
      if (folder) expect(fs.existsSync(path.join(root, folder, 'maildirfolder'))).toBe(true);
    }
    const names = fs.readdirSync(path.join(root, 'cur'));
    expect(names).toHaveLength(2);
    for (const name of names) expect(name).toMatch(/^\d+\.\d+_\d+\.[^/:]+:2,[DFRST]*$/);
    expect(fs.readFileSync(path.join(root, '.Sent', 'cur', fs.readdirSync(path.join(root, '.Sent', 'cur'))[0]), 'latin1')).toBe('Subject: c\n\nc\n');

    const read = await collect(readMaildir(root));
    expect(read.map((m) => ({ mailbox: m.mailbox, bytes: m.bytes, flags: [...m.flags].sort() }))).toEqual(
      messages.map((m) => ({ mailbox: m.mailbox, bytes: m.bytes, flags: [...m.flags].sort() })),
    );
    expect(read.every((m) => m.mtime.getTime() === date.getTime())).toBe(true);
  });

  it('reads new/ (no flags) and cur/, oldest first, and skips dot files', async () => {
    const root = tmp();
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(root, sub));
    fs.writeFileSync(path.join(root, 'new', '200.1_2.h'), 'Subject: later\n\n');
    fs.writeFileSync(path.join(root, 'cur', '100.1_1.h:2,S'), 'Subject: earlier\n\n');
    fs.writeFileSync(path.join(root, 'cur', '200.1_10.h:2,'), 'Subject: tenth\n\n');
    fs.writeFileSync(path.join(root, 'cur', '.hidden'), 'x');
    fs.writeFileSync(path.join(root, 'tmp', '300.1_1.h'), 'Subject: not delivered yet\n\n');
    const entries = await listMaildir(root);
    expect(entries.map((e) => [path.basename(e.path), e.flags])).toEqual([
      ['100.1_1.h:2,S', ['\\Seen']],
      ['200.1_2.h', []],
      ['200.1_10.h:2,', []],
    ]);
    await expect(listMaildir(path.join(root, 'cur'))).rejects.toThrow(/not a Maildir/);
  });
});
