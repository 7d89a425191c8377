/**
 * Conformance of `MailStore.apply` for message changes — flags (IMAP STORE, CONDSTORE), copy
 * and move (UIDPLUS, MOVE), expunge (and QRESYNC tombstones) — and of `changes()`.
 * Called from `runMailStoreConformance` inside its `describe`.
 */
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from './conformance-context.ts';
import { changeHelpers } from './conformance-context.ts';

export function describeMessageChanges(t: ConformanceContext): void {
  const c = changeHelpers(t);

  /** Delivers `n` messages to alice's `mailbox` and returns them. */
  async function deliver(n: number, mailbox = 'INBOX', flags: string[] = []) {
    const results = await t.store().deliver(Array.from({ length: n }, () => t.req(t.alice(), { mailbox, flags })));
    return results.map((r) => r.message);
  }

  describe('setFlags (RFC 9051 §6.4.6)', () => {
    it('adds, removes and replaces flags; one new MODSEQ per command, only for messages that changed', async () => {
      const store = t.store();
      const msgs = await deliver(3);
      const inbox = await c.boxId('INBOX');
      const before = (await store.mailboxById(inbox))!.highestModseq;

      const added = await c.apply('flagsChanged', c.setFlags(inbox, [1, 2], 'add', ['\\Seen', '$Label']));
      expect(added.modseq).toBe(before + 1);
      expect(added.mailboxId).toBe(inbox);
      expect(added.mailbox).toBe('INBOX');
      expect(added.changed).toEqual([
        { messageKey: msgs[0].messageKey, uid: 1, modseq: before + 1, flags: ['\\Seen', '$Label'] },
        { messageKey: msgs[1].messageKey, uid: 2, modseq: before + 1, flags: ['\\Seen', '$Label'] },
      ]);
      expect(added.conflicts).toEqual([]);
      expect(await store.mailboxById(inbox)).toMatchObject({ highestModseq: before + 1, unseen: 1 });
      expect((await store.message(msgs[0].messageKey))).toMatchObject({ flags: ['\\Seen', '$Label'], modseq: before + 1 });
      expect((await store.message(msgs[2].messageKey))?.modseq).toBe(msgs[2].modseq);

      // Flags are case-insensitive: the first spelling stays, nothing changes, no new MODSEQ.
      const same = await c.apply('flagsChanged', c.setFlags(inbox, [1], 'add', ['\\SEEN', '$label']));
      expect(same.changed).toEqual([]);
      expect(same.modseq).toBe(before + 1);
      expect((await store.mailboxById(inbox))?.highestModseq).toBe(before + 1);

      const removed = await c.apply('flagsChanged', c.setFlags(inbox, [1, 2, 3], 'remove', ['\\seen']));
      expect(removed.changed.map((x) => [x.uid, x.flags])).toEqual([[1, ['$Label']], [2, ['$Label']]]);
      expect(removed.modseq).toBe(before + 2);
      expect((await store.mailboxById(inbox))?.unseen).toBe(3);

      const replaced = await c.apply('flagsChanged', c.setFlags(inbox, [2, 3, 99], 'replace', ['\\Flagged', '\\Recent', '\\flagged', '\\Seen']));
      expect(replaced.changed.map((x) => [x.uid, x.flags])).toEqual([[2, ['\\Flagged', '\\Seen']], [3, ['\\Flagged', '\\Seen']]]);
      expect(replaced.modseq).toBe(before + 3);
      expect((await store.mailboxById(inbox))?.unseen).toBe(1);
      expect((await store.summaries(inbox)).map((s) => [s.uid, s.modseq, s.flags])).toEqual([
        [1, before + 2, ['$Label']],
        [2, before + 3, ['\\Flagged', '\\Seen']],
        [3, before + 3, ['\\Flagged', '\\Seen']],
      ]);
    });

    it('leaves messages changed after UNCHANGEDSINCE alone and reports them (RFC 7162 §3.1.3)', async () => {
      await deliver(3);
      const inbox = await c.boxId('INBOX');
      const base = (await t.store().mailboxById(inbox))!.highestModseq;
      const touched = await c.apply('flagsChanged', c.setFlags(inbox, [2], 'add', ['$Touched']));
      const result = await c.apply('flagsChanged', c.setFlags(inbox, [1, 2, 3], 'add', ['\\Answered'], { unchangedSince: base }));
      expect(result.conflicts).toEqual([2]);
      expect(result.changed.map((x) => x.uid)).toEqual([1, 3]);
      expect((await t.store().messagesByUid(inbox, [2]))[0]).toMatchObject({ flags: ['$Touched'], modseq: touched.modseq });
      // UNCHANGEDSINCE equal to the message's MODSEQ passes.
      const exact = await c.apply('flagsChanged', c.setFlags(inbox, [2], 'add', ['\\Answered'], { unchangedSince: touched.modseq }));
      expect(exact.changed.map((x) => x.uid)).toEqual([2]);
      expect(exact.conflicts).toEqual([]);
    });

    it('fails NONEXISTENT for an unknown mailbox or another user’s, changing nothing', async () => {
      const [bobs] = await t.store().deliver([t.req(t.bob())]);
      const failed = await c.apply('failed', c.setFlags(bobs.message.mailboxId, [1], 'add', ['\\Seen']));
      expect(failed.code).toBe('NONEXISTENT');
      expect((await t.store().message(bobs.message.messageKey))?.flags).toEqual([]);
      expect((await c.apply('failed', c.setFlags(bobs.message.mailboxId + 100_000, [1], 'add', ['\\Seen']))).code).toBe('NONEXISTENT');
    });
  });

  describe('copy and move (RFC 9051 §6.4.7, RFC 6851, RFC 4315)', () => {
    it('copies to new UIDs in source UID order, with deterministic new keys, the same body, flags and thread', async () => {
      const store = t.store();
      const msgs = await deliver(3, 'INBOX', ['\\Seen']);
      await deliver(1, 'Archive');
      const inbox = await c.boxId('INBOX');
      const archive = (await store.mailbox(t.alice(), 'Archive'))!;
      const change = c.copy(inbox, [3, 1, 99], 'Archive');
      const result = await c.apply('copied', change);
      expect(result).toMatchObject({
        fromMailboxId: inbox, toMailboxId: archive.id, toMailbox: 'Archive', uidValidity: archive.uidValidity, moved: false,
        sourceUids: [1, 3], targetUids: [2, 3], modseq: archive.highestModseq + 1,
      });
      expect(result.copies).toEqual([
        { fromKey: msgs[0].messageKey, toKey: `copy:${change.commandId}:${msgs[0].messageKey}` },
        { fromKey: msgs[2].messageKey, toKey: `copy:${change.commandId}:${msgs[2].messageKey}` },
      ]);
      const copy = await store.message(result.copies[1].toKey);
      expect(copy).toMatchObject({
        mailboxId: archive.id, mailbox: 'Archive', uid: 3, modseq: result.modseq, flags: ['\\Seen'],
        body: msgs[2].body, threadId: msgs[2].threadId, subject: msgs[2].subject, size: msgs[2].size,
      });
      expect(await store.mailboxById(archive.id)).toMatchObject({ uidNext: 4, messages: 3, highestModseq: result.modseq });
      expect(await store.mailboxById(inbox)).toMatchObject({ messages: 3, highestModseq: msgs[2].modseq });
      expect(await store.countMessages(t.alice())).toBe(6);
    });

    it('fails TRYCREATE when the target does not exist, and NONEXISTENT for another user’s source', async () => {
      await deliver(1);
      const inbox = await c.boxId('INBOX');
      expect((await c.apply('failed', c.copy(inbox, [1], 'Nowhere'))).code).toBe('TRYCREATE');
      const bobInbox = await c.boxId('INBOX', t.bob());
      expect((await c.apply('failed', c.copy(bobInbox, [1], 'Archive'))).code).toBe('NONEXISTENT');
      expect(await t.store().countMessages(t.alice())).toBe(1);
    });

    it('copies within the same mailbox, and copies nothing for unknown UIDs', async () => {
      await deliver(2);
      const inbox = await c.boxId('INBOX');
      const result = await c.apply('copied', c.copy(inbox, [1, 2], 'inbox'));
      expect(result).toMatchObject({ toMailboxId: inbox, sourceUids: [1, 2], targetUids: [3, 4] });
      expect((await t.store().summaries(inbox)).map((s) => s.uid)).toEqual([1, 2, 3, 4]);
      const none = await c.apply('copied', c.copy(inbox, [77], 'Archive'));
      expect(none).toMatchObject({ sourceUids: [], targetUids: [], copies: [] });
    });

    it('moves: the message keeps its key, gets a new home, UID and MODSEQ; the source keeps a tombstone', async () => {
      const store = t.store();
      const msgs = await deliver(3);
      const inbox = (await store.mailbox(t.alice(), 'INBOX'))!;
      const trash = (await store.mailbox(t.alice(), 'Trash'))!;
      const result = await c.apply('copied', c.copy(inbox.id, [2], 'Trash', true));
      expect(result).toMatchObject({ moved: true, sourceUids: [2], targetUids: [1], toMailboxId: trash.id });
      expect(result.copies).toEqual([{ fromKey: msgs[1].messageKey, toKey: msgs[1].messageKey }]);
      expect(await store.message(msgs[1].messageKey)).toMatchObject({ mailboxId: trash.id, mailbox: 'Trash', uid: 1, modseq: result.modseq });
      const after = (await store.mailboxById(inbox.id))!;
      expect(after).toMatchObject({ messages: 2, uidNext: 4 });
      expect(after.highestModseq).toBeGreaterThan(inbox.highestModseq);
      const changes = await store.changes(inbox.id, inbox.highestModseq);
      expect(changes).toEqual({ changed: [], expunged: [2], highestModseq: after.highestModseq });
      expect(await store.countMessages(t.alice())).toBe(3);
    });

    it('moves within the same mailbox to a new UID', async () => {
      const msgs = await deliver(2);
      const inbox = await c.boxId('INBOX');
      const result = await c.apply('copied', c.copy(inbox, [1], 'INBOX', true));
      expect(result.targetUids).toEqual([3]);
      expect((await t.store().summaries(inbox)).map((s) => s.uid)).toEqual([2, 3]);
      expect((await t.store().message(msgs[0].messageKey))?.uid).toBe(3);
      expect((await t.store().changes(inbox, msgs[1].modseq)).expunged).toEqual([1]);
    });
  });

  describe('expunge (RFC 9051 §6.4.3, RFC 4315 §2.1, RFC 1939 §6)', () => {
    it('removes only named messages carrying \\Deleted, at one new MODSEQ, leaving tombstones', async () => {
      const store = t.store();
      const msgs = await deliver(4);
      const inbox = await c.boxId('INBOX');
      await c.apply('flagsChanged', c.setFlags(inbox, [1, 3, 4], 'add', ['\\deleted']));
      const before = (await store.mailboxById(inbox))!.highestModseq;
      const result = await c.apply('expunged', c.expunge(inbox, [1, 2, 3]));
      expect(result).toEqual({
        kind: 'expunged', mailboxId: inbox, mailbox: 'INBOX', uids: [1, 3],
        messageKeys: [msgs[0].messageKey, msgs[2].messageKey], modseq: before + 1,
      });
      expect(await store.message(msgs[0].messageKey)).toBeNull();
      expect((await store.summaries(inbox)).map((s) => s.uid)).toEqual([2, 4]);
      expect(await store.mailboxById(inbox)).toMatchObject({ messages: 2, highestModseq: before + 1, uidNext: 5 });
      expect(await store.changes(inbox, before)).toEqual({ changed: [], expunged: [1, 3], highestModseq: before + 1 });

      const pop = await c.apply('expunged', c.expunge(inbox, [2], false));
      expect(pop).toMatchObject({ uids: [2], messageKeys: [msgs[1].messageKey], modseq: before + 2 });
      expect((await store.changes(inbox, before)).expunged).toEqual([1, 2, 3]);
    });

    it('expunging nothing succeeds with empty lists and no new MODSEQ', async () => {
      await deliver(1);
      const inbox = await c.boxId('INBOX');
      const before = (await t.store().mailboxById(inbox))!.highestModseq;
      const result = await c.apply('expunged', c.expunge(inbox, [1, 50]));
      expect(result).toMatchObject({ uids: [], messageKeys: [], modseq: before });
      expect((await c.apply('failed', c.expunge(inbox + 100_000, [1]))).code).toBe('NONEXISTENT');
    });
  });

  describe('changes since a MODSEQ (RFC 7162)', () => {
    it('lists messages with a higher MODSEQ in UID order, expunged UIDs, and HIGHESTMODSEQ', async () => {
      const store = t.store();
      const msgs = await deliver(4);
      const inbox = await c.boxId('INBOX');
      const mark = msgs[3].modseq;
      await c.apply('flagsChanged', c.setFlags(inbox, [3, 1], 'add', ['\\Flagged', '\\Deleted']));
      await c.apply('expunged', c.expunge(inbox, [3]));
      const [late] = await deliver(1);
      const since = await store.changes(inbox, mark);
      expect(since.changed.map((m) => m.uid)).toEqual([1, late.uid]);
      expect(since.changed[0]).toEqual(await store.message(msgs[0].messageKey));
      expect(since.expunged).toEqual([3]);
      expect(since.highestModseq).toBe(late.modseq);
      expect((await store.changes(inbox, late.modseq))).toEqual({ changed: [], expunged: [], highestModseq: late.modseq });
      expect((await store.changes(inbox, 0)).changed.map((m) => m.uid)).toEqual([1, 2, 4, 5]);
    });
  });
}
