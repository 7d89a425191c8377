import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, sampleMessage, startHarness, type Harness } from '../fetch/test-context.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.env.deliverMany(ALICE, [1, 2, 3, 4].map((i) => sampleMessage(i)));
  await h.select();
});
afterAll(() => h.close());

async function flagsOf(uid: number): Promise<readonly string[]> {
  const [row] = await h.env.store.messagesByUid(h.view.mailbox.id, [uid]);
  return row.flags;
}

// RFC 9051 §6.4.6 STORE.
describe('STORE', () => {
  it('+FLAGS goes through the log and reports FLAGS for every message of the set', async () => {
    await h.run('s0 STORE 2 +FLAGS (\\Answered)');
    const { result, out } = await h.run('s1 STORE 1:2 +FLAGS (\\Flagged $Work)');
    expect(result).toEqual({ status: 'OK', text: 'STORE completed' });
    // RFC 9051 §7.3.5: the new keyword is announced in FLAGS before a FETCH carries it.
    expect(out).toBe(
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)\r\n' +
        '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)] Flags permitted\r\n' +
        '* 1 FETCH (FLAGS (\\Flagged $Work))\r\n* 2 FETCH (FLAGS (\\Answered \\Flagged $Work))\r\n',
    );
    expect(await flagsOf(1)).toEqual(['\\Flagged', '$Work']);
  });

  it('an unchanged message is still reported; the view does not repeat our own change', async () => {
    const { out, updates } = await h.run('s2 STORE 1 +FLAGS (\\Flagged)');
    expect(out).toBe('* 1 FETCH (FLAGS (\\Flagged $Work))\r\n');
    expect(updates).toBe('');
  });

  it('-FLAGS and FLAGS (replace); UID STORE adds UID', async () => {
    expect((await h.run('s3 STORE 1 -FLAGS ($Work)')).out).toBe('* 1 FETCH (FLAGS (\\Flagged))\r\n');
    expect((await h.run('s4 UID STORE 3 FLAGS (\\Seen)')).out).toBe('* 3 FETCH (UID 3 FLAGS (\\Seen))\r\n');
    expect(await flagsOf(3)).toEqual(['\\Seen']);
  });

  it('.SILENT sends nothing (and the view does not report the change later)', async () => {
    const { out } = await h.run('s5 STORE 4 +FLAGS.SILENT (\\Draft)');
    expect(out).toBe('');
    expect(await flagsOf(4)).toEqual(['\\Draft']);
    const fetched = await h.run('s6 FETCH 4 (UID)');
    expect(fetched.out + fetched.updates).toBe('* 4 FETCH (UID 4)\r\n');
  });

  it('another session\'s change is reported by the view, ours is not', async () => {
    await h.env.service.change(ALICE, { setFlags: { mailboxId: h.view.mailbox.id, uids: [2], mode: 'add', flags: ['\\Deleted'], unchangedSince: null } });
    const { out, updates } = await h.run('s7 STORE 1 +FLAGS.SILENT (\\Seen)');
    expect(out).toBe('');
    expect(updates).toBe('* 2 FETCH (UID 2 FLAGS (\\Answered \\Flagged $Work \\Deleted))\r\n');
  });

  it('is refused in a read-only mailbox, BAD for \\Recent and bad sequence numbers', async () => {
    expect((await h.run('s8 STORE 9 +FLAGS (\\Seen)')).result.status).toBe('BAD');
    expect((await h.run('s9 STORE 1 +FLAGS (\\Recent)')).result.status).toBe('BAD');
    await h.select('INBOX', true);
    try {
      expect((await h.run('t1 STORE 1 +FLAGS (\\Seen)')).result.status).toBe('NO');
    } finally {
      await h.select();
    }
  });
});

// RFC 7162 §3.1.3 UNCHANGEDSINCE.
describe('STORE with UNCHANGEDSINCE', () => {
  it('changes what is unchanged, lists the rest in MODIFIED, reports MODSEQ', async () => {
    const [m1] = await h.env.store.messagesByUid(h.view.mailbox.id, [1]);
    await h.run('u0 STORE 2 +FLAGS.SILENT ($Later)'); // message 2 now has a higher MODSEQ than message 1
    const { result, out } = await h.run(`u1 STORE 1:2 (UNCHANGEDSINCE ${m1.modseq}) +FLAGS ($Checked)`);
    expect(h.enabled.condstore).toBe(true);
    expect(result).toMatchObject({ status: 'OK', code: 'MODIFIED 2' });
    expect(out).toMatch(/^\* FLAGS \(.*\$Checked\)\r\n\* OK \[PERMANENTFLAGS .*\r\n\* 1 FETCH \(FLAGS \(\\Flagged \\Seen \$Checked\) MODSEQ \((\d+)\)\)\r\n$/);
    expect(await flagsOf(2)).not.toContain('$Checked');
  });

  it('.SILENT with CONDSTORE still sends MODSEQ for what changed; UID STORE gives UIDs in MODIFIED', async () => {
    const [m3] = await h.env.store.messagesByUid(h.view.mailbox.id, [3]);
    const { result, out } = await h.run(`u2 UID STORE 1,3 (UNCHANGEDSINCE ${m3.modseq}) +FLAGS.SILENT ($Done)`);
    expect(out).toMatch(/^\* 3 FETCH \(UID 3 MODSEQ \(\d+\)\)\r\n$/);
    expect(result.code).toBe('MODIFIED 1');
  });
});
