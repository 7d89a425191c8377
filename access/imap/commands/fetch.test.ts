import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, sampleMessage, startHarness, type Harness } from '../fetch/test-context.ts';

const ATTACHMENT = Buffer.from([0x00, 0x01, 0x02, 0x41, 0x00, 0xff]);
const MULTIPART = [
  'From: Carol <carol@example.org>',
  'To: alice@example.test',
  'Subject: With attachment',
  'Message-ID: <mp@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=us-ascii',
  '',
  'Hello there.',
  '--b1',
  'Content-Type: application/octet-stream',
  'Content-Transfer-Encoding: base64',
  '',
  ATTACHMENT.toString('base64'),
  '--b1--',
  '',
].join('\n');

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.env.deliverMany(ALICE, [sampleMessage(1), sampleMessage(2), sampleMessage(3), MULTIPART]);
  await h.select();
});
afterAll(() => h.close());

// RFC 9051 §6.4.5 FETCH, §7.5.2 FETCH response.
describe('FETCH', () => {
  it('answers FLAGS, UID, INTERNALDATE and RFC822.SIZE from the store for each message', async () => {
    const { result, out } = await h.run('a1 FETCH 1:3 (FLAGS UID INTERNALDATE RFC822.SIZE)');
    expect(result.status).toBe('OK');
    const lines = out.trim().split('\r\n');
    expect(lines).toHaveLength(3);
    const rows = await h.env.store.messagesByUid(h.view.mailbox.id, [1, 2, 3]);
    lines.forEach((line, i) => {
      expect(line).toMatch(new RegExp(`^\\* ${i + 1} FETCH \\(FLAGS \\(\\) UID ${rows[i].uid} INTERNALDATE "[ 0-9]{2}-[A-Z][a-z]{2}-\\d{4} \\d\\d:\\d\\d:\\d\\d \\+0000" RFC822.SIZE ${rows[i].size}\\)$`));
    });
  });

  it('UID FETCH always includes UID (RFC 9051 §6.4.9)', async () => {
    const { out } = await h.run('a2 UID FETCH 2 (FLAGS)');
    expect(out).toBe('* 2 FETCH (UID 2 FLAGS ())\r\n');
  });

  it('answers BAD for sequence numbers beyond the mailbox', async () => {
    const { result, out } = await h.run('a3 FETCH 9 (FLAGS)');
    expect(result.status).toBe('BAD');
    expect(out).toBe('');
  });

  it('ENVELOPE from the message header, the same when served from the cache', async () => {
    const first = await h.run('a4 FETCH 1 (ENVELOPE)');
    expect(first.out).toContain('"Message 1"');
    expect(first.out).toContain('(("Sender 1" NIL "sender1" "example.org"))');
    expect(first.out).toContain('"<m1@example.org>"');
    const again = await h.run('a5 FETCH 1 (ENVELOPE)');
    expect(again.out).toBe(first.out);
  });

  it('BODY.PEEK[HEADER.FIELDS] echoes the section and leaves \\Seen alone', async () => {
    const { out } = await h.run('a6 FETCH 2 (BODY.PEEK[HEADER.FIELDS (From Subject)])');
    const body = 'From: Sender 2 <sender2@example.org>\r\nSubject: Message 2\r\n\r\n';
    expect(out).toBe(`* 2 FETCH (BODY[HEADER.FIELDS (From Subject)] {${body.length}}\r\n${body})\r\n`);
    const [row] = await h.env.store.messagesByUid(h.view.mailbox.id, [2]);
    expect(row.flags).not.toContain('\\Seen');
  });

  it('BODY[]<partial> sets \\Seen through the log and reports FLAGS once', async () => {
    const { out } = await h.run('a7 FETCH 2 (BODY[]<0.6>)');
    expect(out).toBe('* 2 FETCH (BODY[]<0> {6}\r\nFrom:  FLAGS (\\Seen))\r\n');
    const [row] = await h.env.store.messagesByUid(h.view.mailbox.id, [2]);
    expect(row.flags).toContain('\\Seen');
    // Already seen: no FLAGS now, and the view does not repeat the change later.
    const again = await h.run('a8 FETCH 2 (BODY[]<0.6>)');
    expect(again.out).toBe('* 2 FETCH (BODY[]<0> {6}\r\nFrom: )\r\n');
  });

  it('a section that does not exist is an empty string; a partial past the end too', async () => {
    const { out } = await h.run('a9 FETCH 1 (BODY.PEEK[5] BODY.PEEK[TEXT]<1000.5>)');
    expect(out).toBe('* 1 FETCH (BODY[5] "" BODY[TEXT]<1000> "")\r\n');
  });

  it('RFC822.HEADER and RFC822.TEXT', async () => {
    const { out } = await h.run('b1 FETCH 3 (RFC822.HEADER RFC822.TEXT)');
    expect(out).toContain('RFC822.HEADER {');
    expect(out).toContain('+0000\r\n\r\n RFC822.TEXT {20}\r\n');
    expect(out).toContain('Body of message 3.\r\n FLAGS (\\Seen))');
  });

  it('BODYSTRUCTURE of a multipart, BINARY with NULs as literal8, BINARY.SIZE', async () => {
    const { out, raw } = await h.run('b2 FETCH 4 (BODYSTRUCTURE BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[1]<0.5>)');
    expect(out).toMatch(/^\* 4 FETCH \(BODYSTRUCTURE \(\("TEXT" "PLAIN" \("CHARSET" "us-ascii"\)/i);
    expect(out.toUpperCase()).toContain('"MIXED" ("BOUNDARY" "B1")');
    const at = raw.indexOf('BINARY[2] ~{6}\r\n');
    expect(at).toBeGreaterThan(0);
    const start = at + 'BINARY[2] ~{6}\r\n'.length;
    expect(raw.subarray(start, start + 6).equals(ATTACHMENT)).toBe(true);
    expect(out).toContain('BINARY.SIZE[2] 6');
    expect(out).toContain('BINARY[1]<0> {5}\r\nHello');
  });

  it('BODY (non-extensible) is BODYSTRUCTURE without extension data', async () => {
    const { out } = await h.run('b3 FETCH 1 (BODY BODYSTRUCTURE)');
    const [body, structure] = [/BODY (\(.*?\)) BODYSTRUCTURE/.exec(out)?.[1], /BODYSTRUCTURE (\(.*\))\)\r\n$/.exec(out)?.[1]];
    expect(body).toMatch(/^\("TEXT" "PLAIN"/i);
    expect(structure?.startsWith(body!.slice(0, -1))).toBe(true);
    expect(structure!.length).toBeGreaterThan(body!.length);
  });

  it('does not set \\Seen in a mailbox opened read-only', async () => {
    await h.select('INBOX', true);
    try {
      const { out } = await h.run('b4 FETCH 1 (BODY[TEXT])');
      expect(out).toBe('* 1 FETCH (BODY[TEXT] {20}\r\nBody of message 1.\r\n)\r\n');
      const [row] = await h.env.store.messagesByUid(h.view.mailbox.id, [1]);
      expect(row.flags).not.toContain('\\Seen');
    } finally {
      await h.select();
    }
  });
});

// RFC 7162 §3.1.4 CHANGEDSINCE, §3.2.6 VANISHED.
describe('FETCH with CONDSTORE and QRESYNC', () => {
  it('CHANGEDSINCE returns only messages changed after it, with MODSEQ, and enables CONDSTORE', async () => {
    const before = (await h.env.store.mailboxById(h.view.mailbox.id))!.highestModseq;
    await h.run('c1 STORE 1 +FLAGS.SILENT (\\Flagged)');
    expect(h.enabled.condstore).toBe(false);
    const { out } = await h.run(`c2 FETCH 1:* (FLAGS) (CHANGEDSINCE ${before})`);
    expect(h.enabled.condstore).toBe(true);
    expect(out).toMatch(/^\* 1 FETCH \(FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)\r\n$/);
    // Once CONDSTORE is on, every FETCH response carries MODSEQ.
    const plain = await h.run('c3 FETCH 2 (UID)');
    expect(plain.out).toMatch(/^\* 2 FETCH \(UID 2 MODSEQ \(\d+\)\)\r\n$/);
  });

  it('VANISHED (EARLIER) lists expunged UIDs of the set, only under QRESYNC', async () => {
    const { status } = (await h.run('c4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)')).result;
    expect(status).toBe('BAD');
    h.enabled.qresync = true;
    // Another session expunges UID 3.
    await h.env.service.change(ALICE, { setFlags: { mailboxId: h.view.mailbox.id, uids: [3], mode: 'add', flags: ['\\Deleted'], unchangedSince: null } });
    await h.env.service.change(ALICE, { expunge: { mailboxId: h.view.mailbox.id, uids: [3], onlyDeleted: true } });
    const { out } = await h.run('c5 UID FETCH 1:* (UID) (CHANGEDSINCE 1 VANISHED)');
    expect(out.startsWith('* VANISHED (EARLIER) 3\r\n')).toBe(true);
    const narrow = await h.run('c6 UID FETCH 1:2 (UID) (CHANGEDSINCE 1 VANISHED)');
    expect(narrow.out).not.toContain('VANISHED');
    h.enabled.qresync = false;
  });
});
