import { describe, it, expect } from 'vitest';
import { startAccessTestEnv } from '../test-kit.ts';
import type { Mailbox } from '../../connectors/store/store.ts';
import type { SequenceSet } from './command.ts';
import { RecentUids } from './recent.ts';
import { SelectedMailbox } from './selected-view.ts';

const mailbox: Mailbox = {
  id: 1, userId: 'alice@example.test', name: 'INBOX', specialUse: '\\Inbox', uidValidity: 7, uidNext: 31,
  highestModseq: 40, messages: 5, unseen: 5, subscribed: true, size: 500,
};

function view(uids: number[]): SelectedMailbox {
  return new SelectedMailbox(mailbox, false, uids.map((uid) => ({ uid, modseq: uid, flags: uid === 20 ? ['$Work'] : [] })));
}

const set = (...ranges: [number | '*', number | '*'][]): SequenceSet => ({ kind: 'set', ranges: ranges.map(([start, end]) => ({ start, end })) });

describe('SelectedMailbox.resolve (RFC 9051 §6.4.5, §6.4.9)', () => {
  const v = view([3, 5, 10, 20, 30]);

  it('maps sequence numbers to UIDs, * being the last message, ranges either way round', () => {
    expect(v.resolve(set([1, 1]), false)).toEqual([3]);
    expect(v.resolve(set([2, '*']), false)).toEqual([5, 10, 20, 30]);
    expect(v.resolve(set([4, 2]), false)).toEqual([5, 10, 20]);
    expect(v.resolve(set([5, 5], [1, 2], [2, 2]), false)).toEqual([3, 5, 30]);
  });

  it('throws a RangeError for sequence numbers beyond the mailbox', () => {
    expect(() => v.resolve(set([6, 6]), false)).toThrow(RangeError);
    expect(() => v.resolve(set([0, 1]), false)).toThrow(RangeError);
    expect(() => view([]).resolve(set([1, '*']), false)).toThrow(RangeError);
  });

  it('keeps the known UIDs of a UID set; n:* includes the highest UID even when n is larger', () => {
    expect(v.resolve(set([4, 20]), true)).toEqual([5, 10, 20]);
    expect(v.resolve(set([1, '*']), true)).toEqual([3, 5, 10, 20, 30]);
    expect(v.resolve(set([100, '*']), true)).toEqual([30]);
    expect(v.resolve(set([11, 19]), true)).toEqual([]);
    expect(view([]).resolve(set([1, '*']), true)).toEqual([]);
  });

  it('resolves $ to the saved search, limited to known messages (RFC 5182)', () => {
    const w = view([3, 5, 10]);
    expect(w.resolve({ kind: 'saved' }, true)).toEqual([]);
    w.savedSearch = [5, 10, 99];
    expect(w.resolve({ kind: 'saved' }, false)).toEqual([5, 10]);
  });

  it('finds sequence numbers, reports FLAGS with keywords in use, and a UIDNEXT past the known UIDs', () => {
    expect(v.seqOf(20)).toBe(4);
    expect(v.seqOf(21)).toBeUndefined();
    expect(v.flagsLines()[0]).toBe('* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)\r\n');
    expect(v.uidNext).toBe(31);
    expect(view([3, 50]).uidNext).toBe(51);
  });
});

describe('SelectedMailbox flags and \\Recent', () => {
  it('announces FLAGS once for a keyword the client has not been told about (RFC 9051 §7.3.5)', () => {
    const v = view([3, 20]);
    expect(v.announceFlags(['\\Seen', '$Work', '\\Recent'])).toEqual([]);
    const lines = v.announceFlags(['$New']);
    expect(lines).toEqual([
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work $New)\r\n',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work $New \\*)] Flags permitted\r\n',
    ]);
    expect(v.announceFlags(['$New'])).toEqual([]);
  });

  it('EXAMINE shows the unclaimed messages as recent, SELECT claims them (RFC 3501 §2.3.2)', () => {
    const recent = new RecentUids();
    recent.firstRecent({ ...mailbox, uidNext: 10 });
    const summaries = [5, 10, 20].map((uid) => ({ uid, modseq: uid, flags: [] }));
    const examined = new SelectedMailbox(mailbox, true, summaries, recent);
    expect([...examined.recent]).toEqual([10, 20]);
    const selected = new SelectedMailbox(mailbox, false, summaries, recent);
    expect([...selected.recent]).toEqual([10, 20]);
    expect(selected.shownFlags(10, ['\\Seen'], { condstore: false, qresync: false, imap4rev2: false, utf8: false })).toEqual(['\\Recent', '\\Seen']);
    expect(selected.shownFlags(10, ['\\Seen'], { condstore: false, qresync: false, imap4rev2: true, utf8: true })).toEqual(['\\Seen']);
    expect(new SelectedMailbox(mailbox, false, summaries, recent).recent.size).toBe(0);
    expect(recent.firstRecent(mailbox)).toBe(31);
  });
});

describe('SelectedMailbox.update', () => {
  const enabled = { condstore: false, qresync: false, imap4rev2: true, utf8: true };
  const raw = (n: number) => `From: a@example.test\r\nTo: bob@example.test\r\nSubject: ${n}\r\nMessage-ID: <${n}@example.test>\r\n\r\nbody ${n}\r\n`;

  it('a message stored between the read of the mailbox and of its messages is not reported as a flag change', async () => {
    const env = await startAccessTestEnv();
    try {
      await env.addUser('bob@example.test', 'secret');
      const user = await env.store.user('bob@example.test');
      if (!user) throw new Error('no user');
      await env.deliver('bob@example.test', raw(1));
      // SELECT reads the mailbox row, then the message list; mail arrives in between.
      const row = await env.store.mailbox(user.id, 'INBOX');
      if (!row) throw new Error('no INBOX');
      await env.deliver('bob@example.test', raw(2));
      const summaries = await env.store.summaries(row.id);
      expect(summaries.map((m) => m.modseq > row.highestModseq)).toEqual([false, true]);
      const v = new SelectedMailbox(row, true, summaries);
      expect(await v.update(env.store, enabled, true)).toEqual([]);
      // A real change to it later is reported.
      await env.deliver('bob@example.test', raw(3));
      expect(await v.update(env.store, enabled, true)).toEqual(['* 3 EXISTS\r\n']);
    } finally {
      await env.close();
    }
  });
  it("skips reading back a session's own change only when it took the MODSEQ right after what the session had seen", async () => {
    const env = await startAccessTestEnv();
    try {
      await env.addUser('bob@example.test', 'secret');
      await env.deliver('bob@example.test', raw(1));
      await env.deliver('bob@example.test', raw(2));
      const row = (await env.store.mailbox('bob@example.test', 'INBOX'))!;
      const v = new SelectedMailbox(row, false, await env.store.summaries(row.id));
      const seen = async (commandId: string, uid: number) => {
        const [result] = await env.store.apply([
          { kind: 'setFlags', commandId, userId: 'bob@example.test', mailboxId: row.id, uids: [uid], mode: 'add', flags: ['\\Seen'], unchangedSince: null },
        ]);
        if (result.kind !== 'flagsChanged') throw new Error(result.kind);
        v.noteReported(uid, result.modseq);
        v.noteOwnChange(result.modseq);
        return result.modseq;
      };
      const first = await seen('c1', 1);
      expect(first).toBe(row.highestModseq + 1);
      expect(v.modseq).toBe(first);
      expect(await v.update(env.store, enabled, true)).toEqual([]);
      // Mail arrives between what the session saw and its next change: the change does not move
      // the session past the delivery, which its next update reports.
      await env.deliver('bob@example.test', raw(3));
      const second = await seen('c2', 2);
      expect(second).toBe(first + 2);
      expect(v.modseq).toBe(first);
      expect(await v.update(env.store, enabled, true)).toEqual(['* 3 EXISTS\r\n']);
      expect(v.modseq).toBe(second);
    } finally {
      await env.close();
    }
  });
});
