import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, sampleMessage, startHarness, type Harness } from '../fetch/test-context.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.env.deliverMany(ALICE, [1, 2, 3, 4, 5].map((i) => sampleMessage(i)));
  await h.select();
});
afterAll(() => h.close());

async function uidsIn(name: string): Promise<number[]> {
  const box = await h.env.store.mailbox(ALICE, name);
  return (await h.env.store.summaries(box!.id)).map((s) => s.uid);
}

// RFC 9051 §6.4.7 COPY, RFC 4315 §3 COPYUID.
describe('COPY', () => {
  it('copies through the log and answers COPYUID in the tagged OK', async () => {
    const archive = (await h.env.store.mailbox(ALICE, 'Archive'))!;
    const { result, out, updates } = await h.run('c1 COPY 2:3 Archive');
    expect(result).toEqual({ status: 'OK', code: `COPYUID ${archive.uidValidity} 2:3 1:2`, text: 'COPY completed' });
    expect(out + updates).toBe('');
    expect(await uidsIn('Archive')).toEqual([1, 2]);
    expect(await uidsIn('INBOX')).toEqual([1, 2, 3, 4, 5]);
  });

  it('UID COPY of UIDs that do not exist is OK without COPYUID', async () => {
    const { result } = await h.run('c2 UID COPY 90:99 Archive');
    expect(result).toEqual({ status: 'OK', text: 'COPY completed' });
  });

  it('answers NO [TRYCREATE] for a mailbox that does not exist, BAD for bad numbers', async () => {
    expect((await h.run('c3 COPY 1 Nowhere')).result).toMatchObject({ status: 'NO', code: 'TRYCREATE' });
    expect((await h.run('c4 UID COPY 77 Nowhere')).result).toMatchObject({ status: 'NO', code: 'TRYCREATE' });
    expect((await h.run('c5 COPY 6 Archive')).result.status).toBe('BAD');
  });
});

// RFC 6851 MOVE.
describe('MOVE', () => {
  it('sends COPYUID untagged, then the view expunges the moved messages (highest first)', async () => {
    const trash = (await h.env.store.mailbox(ALICE, 'Trash'))!;
    const { result, out, updates } = await h.run('m1 MOVE 2,4 Trash');
    expect(result).toEqual({ status: 'OK', text: 'MOVE completed' });
    expect(out).toBe(`* OK [COPYUID ${trash.uidValidity} 2,4 1:2] Moved\r\n`);
    expect(updates).toBe('* 4 EXPUNGE\r\n* 2 EXPUNGE\r\n');
    expect(h.view.uids).toEqual([1, 3, 5]);
    expect(await uidsIn('Trash')).toEqual([1, 2]);
    expect(await uidsIn('INBOX')).toEqual([1, 3, 5]);
  });

  it('UID MOVE under QRESYNC: VANISHED instead of EXPUNGE', async () => {
    h.enabled.qresync = true;
    h.enabled.condstore = true;
    try {
      const { out, updates } = await h.run('m2 UID MOVE 3:5 Trash');
      expect(out).toMatch(/^\* OK \[COPYUID \d+ 3,5 3:4\] Moved\r\n$/);
      expect(updates).toBe('* VANISHED 3,5\r\n');
      expect(h.view.uids).toEqual([1]);
    } finally {
      h.enabled.qresync = false;
    }
  });

  it('is refused in a read-only mailbox', async () => {
    await h.select('INBOX', true);
    try {
      expect((await h.run('m3 MOVE 1 Trash')).result.status).toBe('NO');
      expect((await h.run('m4 COPY 1 Trash')).result.status).toBe('OK');
    } finally {
      await h.select();
    }
  });
});
