import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, sampleMessage, startHarness, type Harness } from '../fetch/test-context.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.env.deliverMany(ALICE, [1, 2, 3, 4, 5].map((i) => sampleMessage(i)));
  await h.select();
  await h.run('p0 STORE 2,4 +FLAGS.SILENT (\\Seen)');
});
afterAll(() => h.close());

// RFC 9051 §6.4.4 SEARCH (IMAP4rev1 reply: RFC 3501 §7.2.5).
describe('SEARCH', () => {
  it('answers * SEARCH with sequence numbers, or UIDs for UID SEARCH', async () => {
    expect((await h.run('s1 SEARCH SEEN')).out).toBe('* SEARCH 2 4\r\n');
    expect((await h.run('s2 UID SEARCH SUBJECT "message 3"')).out).toBe('* SEARCH 3\r\n');
    expect((await h.run('s3 SEARCH UNSEEN NOT 1:3')).out).toBe('* SEARCH 5\r\n');
    expect((await h.run('s4 SEARCH KEYWORD $Nothing')).out).toBe('* SEARCH\r\n');
  });

  it('accepts UTF-8 and US-ASCII only: NO [BADCHARSET]', async () => {
    expect((await h.run('s5 SEARCH CHARSET utf-8 ALL')).result.status).toBe('OK');
    expect((await h.run('s6 SEARCH CHARSET KOI8-R ALL')).result).toMatchObject({ status: 'NO', code: 'BADCHARSET (UTF-8 US-ASCII)' });
  });
});

// RFC 4731 ESEARCH, RFC 9051 §7.3.4.
describe('ESEARCH', () => {
  it('RETURN (MIN MAX COUNT ALL)', async () => {
    const { out } = await h.run('e1 UID SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN');
    expect(out).toBe('* ESEARCH (TAG "e1") UID MIN 1 MAX 5 ALL 1,3,5 COUNT 3\r\n');
    expect((await h.run('e2 SEARCH RETURN (COUNT) KEYWORD $Nothing')).out).toBe('* ESEARCH (TAG "e2") COUNT 0\r\n');
    expect((await h.run('e3 SEARCH RETURN () 2:4')).out).toBe('* ESEARCH (TAG "e3") ALL 2:4\r\n');
  });

  it('IMAP4rev2 answers a plain SEARCH with ESEARCH ALL', async () => {
    h.enabled.imap4rev2 = true;
    try {
      expect((await h.run('e4 SEARCH SEEN')).out).toBe('* ESEARCH (TAG "e4") ALL 2,4\r\n');
      expect((await h.run('e5 SEARCH DELETED')).out).toBe('* ESEARCH (TAG "e5")\r\n');
    } finally {
      h.enabled.imap4rev2 = false;
    }
  });
});

// RFC 5182 SEARCHRES.
describe('SEARCH RETURN (SAVE)', () => {
  it('saves the result for $ without answering ESEARCH; with MIN saves only the minimum', async () => {
    const { out } = await h.run('r1 SEARCH RETURN (SAVE) UNSEEN');
    expect(out).toBe('');
    expect(h.view.savedSearch).toEqual([1, 3, 5]);
    expect((await h.run('r2 FETCH $ (UID)')).out).toBe('* 1 FETCH (UID 1)\r\n* 3 FETCH (UID 3)\r\n* 5 FETCH (UID 5)\r\n');
    expect((await h.run('r3 SEARCH $ SEEN')).out).toBe('* SEARCH\r\n');
    const min = await h.run('r4 SEARCH RETURN (SAVE MIN) SEEN');
    expect(min.out).toBe('* ESEARCH (TAG "r4") MIN 2\r\n');
    expect(h.view.savedSearch).toEqual([2]);
    await h.run('r5 SEARCH RETURN (SAVE) CHARSET X-UNKNOWN ALL');
    expect(h.view.savedSearch).toEqual([]);
  });
});

// RFC 7162 §3.1.5 MODSEQ search criterion.
describe('SEARCH MODSEQ', () => {
  it('enables CONDSTORE and appends the highest MODSEQ of the matches', async () => {
    const rows = await h.env.store.messagesByUid(h.view.mailbox.id, [1, 2, 3, 4, 5]);
    const seen = Math.max(rows[1].modseq, rows[3].modseq);
    const { out } = await h.run(`m1 SEARCH MODSEQ ${seen}`);
    expect(h.enabled.condstore).toBe(true);
    expect(out).toBe(`* SEARCH 2 4 (MODSEQ ${seen})\r\n`);
    expect((await h.run(`m2 SEARCH RETURN (ALL) MODSEQ ${seen}`)).out).toBe(`* ESEARCH (TAG "m2") ALL 2,4 MODSEQ ${seen}\r\n`);
    expect((await h.run(`m3 SEARCH MODSEQ ${seen + 100}`)).out).toBe('* SEARCH\r\n');
  });

  it('ESEARCH MIN/MAX alone report the MODSEQ of the returned message(s), else of all matches (RFC 7162 §3.1.5)', async () => {
    const rows = await h.env.store.messagesByUid(h.view.mailbox.id, [1, 2, 3, 4, 5]);
    const m = rows.map((r) => r.modseq);
    // Give message 3 the highest MODSEQ of 1:3, so MIN 1 and MAX 3 differ from the highest.
    await h.run('m4 STORE 3 +FLAGS.SILENT (\\Flagged)');
    const m3 = (await h.env.store.messagesByUid(h.view.mailbox.id, [3]))[0].modseq;
    expect(m3).toBeGreaterThan(Math.max(...m));
    await h.run('m5 STORE 1 +FLAGS.SILENT (\\Answered)');
    const m1 = (await h.env.store.messagesByUid(h.view.mailbox.id, [1]))[0].modseq;
    const low = Math.min(...m);
    expect((await h.run(`m6 SEARCH RETURN (MIN) 1:3 MODSEQ ${low}`)).out).toBe(`* ESEARCH (TAG "m6") MIN 1 MODSEQ ${m1}\r\n`);
    expect((await h.run(`m7 SEARCH RETURN (MAX) 2:3 MODSEQ ${low}`)).out).toBe(`* ESEARCH (TAG "m7") MAX 3 MODSEQ ${m3}\r\n`);
    expect((await h.run(`m8 SEARCH RETURN (MIN) 2:3 MODSEQ ${low}`)).out).toBe(`* ESEARCH (TAG "m8") MIN 2 MODSEQ ${m[1]}\r\n`);
    expect((await h.run(`m9 SEARCH RETURN (MIN MAX) 2:3 MODSEQ ${low}`)).out).toBe(`* ESEARCH (TAG "m9") MIN 2 MAX 3 MODSEQ ${m3}\r\n`);
    expect((await h.run(`ma SEARCH RETURN (MIN COUNT) 2:3 MODSEQ ${low}`)).out).toBe(`* ESEARCH (TAG "ma") MIN 2 COUNT 2 MODSEQ ${m3}\r\n`);
    expect((await h.run(`mb SEARCH RETURN () 1:2 MODSEQ ${low}`)).out).toBe(`* ESEARCH (TAG "mb") ALL 1:2 MODSEQ ${Math.max(m1, m[1])}\r\n`);
  });
});
