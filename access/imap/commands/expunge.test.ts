import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, sampleMessage, startHarness, type Harness } from '../fetch/test-context.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.env.deliverMany(ALICE, [1, 2, 3, 4, 5, 6].map((i) => sampleMessage(i)));
  await h.select();
});
afterAll(() => h.close());

// RFC 9051 §6.4.3 EXPUNGE, RFC 4315 §2.1 UID EXPUNGE.
describe('EXPUNGE', () => {
  it('removes only messages with \\Deleted; EXPUNGE responses highest sequence first', async () => {
    await h.run('e0 STORE 2,3,5 +FLAGS.SILENT (\\Deleted)');
    const { result, out, updates } = await h.run('e1 EXPUNGE');
    expect(result).toEqual({ status: 'OK', text: 'EXPUNGE completed' });
    expect(out).toBe('');
    expect(updates).toBe('* 5 EXPUNGE\r\n* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n');
    expect(h.view.uids).toEqual([1, 4, 6]);
    expect((await h.env.store.summaries(h.view.mailbox.id)).map((s) => s.uid)).toEqual([1, 4, 6]);
  });

  it('UID EXPUNGE removes only the deleted messages of its set; HIGHESTMODSEQ under CONDSTORE', async () => {
    await h.run('e2 STORE 1:3 +FLAGS.SILENT (\\Deleted)');
    h.enabled.condstore = true;
    const { result, updates } = await h.run('e3 UID EXPUNGE 4:6');
    const box = (await h.env.store.mailboxById(h.view.mailbox.id))!;
    expect(result).toEqual({ status: 'OK', code: `HIGHESTMODSEQ ${box.highestModseq}`, text: 'EXPUNGE completed' });
    expect(updates).toBe('* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n');
    expect(h.view.uids).toEqual([1]);
  });

  it('with nothing deleted expunges nothing; read-only is NO', async () => {
    await h.run('e4 STORE 1 -FLAGS.SILENT (\\Deleted)');
    expect((await h.run('e5 EXPUNGE')).updates).toBe('');
    expect(h.view.uids).toEqual([1]);
    await h.select('INBOX', true);
    try {
      expect((await h.run('e6 EXPUNGE')).result.status).toBe('NO');
    } finally {
      await h.select();
    }
  });
});
