/**
 * Conformance of `MailStore.apply` for mailbox changes — CREATE (and CREATE-SPECIAL-USE),
 * RENAME, DELETE, SUBSCRIBE — and of idempotence by command id and durability for every kind.
 * Called from `runMailStoreConformance` inside its `describe`.
 */
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from './conformance-context.ts';
import { changeHelpers } from './conformance-context.ts';
import type { MailboxChange } from './store.ts';

export function describeMailboxChanges(t: ConformanceContext): void {
  const c = changeHelpers(t);
  const names = async () => (await t.store().mailboxes(t.alice())).map((b) => b.name).sort();

  describe('createMailbox (RFC 9051 §6.3.4, RFC 6154 §3)', () => {
    it('creates an empty, unsubscribed mailbox, and its missing superiors; a trailing / is trimmed', async () => {
      const result = await c.apply('mailboxChanged', c.create('Projects/2026/'));
      const box = (await t.store().mailbox(t.alice(), 'Projects/2026'))!;
      expect(result).toEqual({ kind: 'mailboxChanged', change: 'created', mailboxId: box.id, name: 'Projects/2026', oldName: null, removedKeys: [] });
      expect(box).toMatchObject({ messages: 0, unseen: 0, size: 0, uidNext: 1, highestModseq: 0, specialUse: null, subscribed: false });
      expect(box.uidValidity).toBeGreaterThan(0);
      expect(await t.store().mailbox(t.alice(), 'Projects')).not.toBeNull();
      expect(await t.store().subscriptions(t.alice())).not.toContain('Projects/2026');
      await c.apply('mailboxChanged', c.create('Projects/2027'));
      expect((await names()).filter((n) => n.startsWith('Projects'))).toEqual(['Projects', 'Projects/2026', 'Projects/2027']);
    });

    it('refuses INBOX in any case and an existing name (ALREADYEXISTS), and bad names, changing nothing', async () => {
      const before = await names();
      expect((await c.apply('failed', c.create('inbox'))).code).toBe('ALREADYEXISTS');
      expect((await c.apply('failed', c.create('Sent'))).code).toBe('ALREADYEXISTS');
      expect((await c.apply('failed', c.create('Sent/'))).code).toBe('ALREADYEXISTS');
      for (const bad of ['', '/', 'a\tb', 'a*', 'a%b', 'a//b', '/a', 'x/'.repeat(2) + '/', 'y'.repeat(256)]) {
        expect((await c.apply('failed', c.create(bad))).code, JSON.stringify(bad)).toBe('CANNOT');
      }
      expect(await names()).toEqual(before);
    });

    it('sets a special-use attribute, and refuses an unknown one with USEATTR', async () => {
      await c.apply('mailboxChanged', c.create('Old Mail', '\\archive'));
      expect((await t.store().mailbox(t.alice(), 'Old Mail'))?.specialUse).toBe('\\Archive');
      expect((await c.apply('failed', c.create('Odd', '\\Bogus'))).code).toBe('USEATTR');
      expect((await c.apply('failed', c.create('Odd/Child', '\\Bogus'))).code).toBe('USEATTR');
      expect(await t.store().mailbox(t.alice(), 'Odd')).toBeNull();
    });

    it('gives a mailbox created again under an old name a new UIDVALIDITY (RFC 9051 §2.3.1.1)', async () => {
      await c.apply('mailboxChanged', c.create('Again'));
      const first = (await t.store().mailbox(t.alice(), 'Again'))!;
      await c.apply('mailboxChanged', c.remove('Again'));
      await c.apply('mailboxChanged', c.create('Again'));
      const second = (await t.store().mailbox(t.alice(), 'Again'))!;
      expect(second.uidValidity).not.toBe(first.uidValidity);
      expect(second.uidValidity).toBeGreaterThan(first.uidValidity);
    });
  });

  describe('renameMailbox (RFC 9051 §6.3.6)', () => {
    it('renames a mailbox and its inferiors, keeping id, UIDVALIDITY and messages; superiors created', async () => {
      await c.apply('mailboxChanged', c.create('A/B'));
      const [msg] = await t.store().deliver([t.req(t.alice(), { mailbox: 'A' })]);
      const a = (await t.store().mailbox(t.alice(), 'A'))!;
      await c.apply('mailboxChanged', c.subscribe('A'));
      const result = await c.apply('mailboxChanged', c.rename('A', 'X/C'));
      expect(result).toMatchObject({ change: 'renamed', mailboxId: a.id, name: 'X/C', oldName: 'A', removedKeys: [] });
      expect((await names()).filter((n) => /^(A$|A\/|X)/.test(n))).toEqual(['X', 'X/C', 'X/C/B']);
      expect(await t.store().mailbox(t.alice(), 'X/C')).toMatchObject({ id: a.id, uidValidity: a.uidValidity, messages: 1 });
      expect(await t.store().message(msg.message.messageKey)).toMatchObject({ mailbox: 'X/C', uid: 1 });
      // Subscriptions are names: not renamed (RFC 9051 §6.3.7).
      const subs = await t.store().subscriptions(t.alice());
      expect(subs).toContain('A');
      expect(subs).not.toContain('X/C');
    });

    it('fails NONEXISTENT, ALREADYEXISTS (also for an inferior and for INBOX) and CANNOT, changing nothing', async () => {
      await c.apply('mailboxChanged', c.create('P/Q'));
      await c.apply('mailboxChanged', c.create('R/Q'));
      await c.apply('mailboxChanged', c.remove('R'));
      const before = await names();
      expect((await c.apply('failed', c.rename('Missing', 'Other'))).code).toBe('NONEXISTENT');
      expect((await c.apply('failed', c.rename('P', 'Sent'))).code).toBe('ALREADYEXISTS');
      expect((await c.apply('failed', c.rename('P', 'P'))).code).toBe('ALREADYEXISTS');
      expect((await c.apply('failed', c.rename('P', 'INBOX'))).code).toBe('ALREADYEXISTS');
      expect((await c.apply('failed', c.rename('P', 'R'))).code).toBe('ALREADYEXISTS'); // R/Q exists
      expect((await c.apply('failed', c.rename('P', 'P/Sub'))).code).toBe('CANNOT');
      expect((await c.apply('failed', c.rename('P', 'bad*name'))).code).toBe('CANNOT');
      expect(await names()).toEqual(before);
    });

    it('renaming INBOX moves its messages to a new mailbox and leaves INBOX empty', async () => {
      const store = t.store();
      const delivered = await store.deliver([t.req(t.alice()), t.req(t.alice())]);
      await c.apply('mailboxChanged', c.create('INBOX/Child'));
      const inbox = (await store.mailbox(t.alice(), 'INBOX'))!;
      const result = await c.apply('mailboxChanged', c.rename('inbox', 'Old Inbox'));
      const old = (await store.mailbox(t.alice(), 'Old Inbox'))!;
      expect(result).toMatchObject({ change: 'renamed', mailboxId: old.id, name: 'Old Inbox', oldName: 'INBOX' });
      expect(old.id).not.toBe(inbox.id);
      expect(old.uidValidity).not.toBe(inbox.uidValidity);
      expect(old.messages).toBe(2);
      for (const d of delivered) expect((await store.message(d.message.messageKey))?.mailboxId).toBe(old.id);
      const after = (await store.mailbox(t.alice(), 'INBOX'))!;
      expect(after).toMatchObject({ id: inbox.id, uidValidity: inbox.uidValidity, messages: 0, uidNext: inbox.uidNext });
      expect((await store.changes(inbox.id, inbox.highestModseq)).expunged).toEqual([1, 2]);
      expect(await store.mailbox(t.alice(), 'INBOX/Child')).not.toBeNull();
      const [next] = await store.deliver([t.req(t.alice())]);
      expect(next.message).toMatchObject({ mailboxId: inbox.id, uid: 3 });
    });
  });

  describe('deleteMailbox (RFC 9051 §6.3.5)', () => {
    it('deletes the mailbox and its messages; inferiors and subscriptions stay', async () => {
      const store = t.store();
      await c.apply('mailboxChanged', c.create('Old/Sub'));
      const delivered = await store.deliver([t.req(t.alice(), { mailbox: 'Old' }), t.req(t.alice(), { mailbox: 'Old' }), t.req(t.alice(), { mailbox: 'Old/Sub' })]);
      await c.apply('mailboxChanged', c.subscribe('Old'));
      const old = (await store.mailbox(t.alice(), 'Old'))!;
      const result = await c.apply('mailboxChanged', c.remove('Old'));
      expect(result).toEqual({
        kind: 'mailboxChanged', change: 'deleted', mailboxId: old.id, name: 'Old', oldName: null,
        removedKeys: [delivered[0].message.messageKey, delivered[1].message.messageKey],
      });
      expect(await store.mailbox(t.alice(), 'Old')).toBeNull();
      expect(await store.mailboxById(old.id)).toBeNull();
      expect(await store.message(delivered[0].message.messageKey)).toBeNull();
      expect(await store.mailbox(t.alice(), 'Old/Sub')).toMatchObject({ messages: 1 });
      expect(await store.countMessages(t.alice())).toBe(1);
      expect(await store.subscriptions(t.alice())).toContain('Old');
    });

    it('refuses INBOX (CANNOT) and an unknown name (NONEXISTENT)', async () => {
      expect((await c.apply('failed', c.remove('Inbox'))).code).toBe('CANNOT');
      expect((await c.apply('failed', c.remove('Nope'))).code).toBe('NONEXISTENT');
      expect(await t.store().mailbox(t.alice(), 'INBOX')).not.toBeNull();
    });
  });

  describe('subscribe (RFC 9051 §6.3.7, §6.3.8)', () => {
    it('subscribes and unsubscribes names, whether or not the mailbox exists', async () => {
      const store = t.store();
      const sent = (await store.mailbox(t.alice(), 'Sent'))!;
      expect(await c.apply('mailboxChanged', c.subscribe('Sent', false))).toEqual({
        kind: 'mailboxChanged', change: 'unsubscribed', mailboxId: sent.id, name: 'Sent', oldName: null, removedKeys: [],
      });
      expect((await store.mailbox(t.alice(), 'Sent'))?.subscribed).toBe(false);
      const ghost = await c.apply('mailboxChanged', c.subscribe('Not Yet'));
      expect(ghost).toMatchObject({ change: 'subscribed', name: 'Not Yet' });
      expect(await store.subscriptions(t.alice())).toContain('Not Yet');
      expect(await store.subscriptions(t.alice())).not.toContain('Sent');
      await c.apply('mailboxChanged', c.create('Not Yet'));
      expect((await store.mailbox(t.alice(), 'Not Yet'))?.subscribed).toBe(true);
      await c.apply('mailboxChanged', c.subscribe('Not Yet'));
      expect((await store.subscriptions(t.alice())).filter((n) => n === 'Not Yet')).toHaveLength(1);
      expect(await store.subscriptions(t.bob())).not.toContain('Not Yet');
    });
  });

  describe('apply', () => {
    it('applies changes in order within one call', async () => {
      await t.store().deliver([t.req(t.alice())]);
      const inbox = await c.boxId('INBOX');
      const results = await t.store().apply([c.create('Fresh'), c.copy(inbox, [1], 'Fresh'), c.rename('Fresh', 'Renamed')]);
      expect(results.map((r) => r.kind)).toEqual(['mailboxChanged', 'copied', 'mailboxChanged']);
      expect(await t.store().mailbox(t.alice(), 'Renamed')).toMatchObject({ messages: 1 });
    });

    it('is idempotent by command id for every kind: a replay returns the first result and changes nothing', async () => {
      const store = t.store();
      await store.deliver([t.req(t.alice()), t.req(t.alice()), t.req(t.alice())]);
      const inbox = await c.boxId('INBOX');
      await c.apply('flagsChanged', c.setFlags(inbox, [3], 'add', ['\\Deleted']));
      const changes: MailboxChange[] = [
        c.setFlags(inbox, [1], 'add', ['\\Seen']),
        c.setFlags(inbox, [1], 'remove', ['\\Seen'], { unchangedSince: 1 }),
        c.copy(inbox, [1], 'Archive'),
        c.copy(inbox, [2], 'Trash', true),
        c.expunge(inbox, [3]),
        c.create('Made'),
        c.rename('Made', 'Moved'),
        c.subscribe('Moved'),
        c.remove('Moved'),
        c.remove('Never There'),
      ];
      const first = await store.apply(changes);
      expect(first.map((r) => r.kind)).toEqual([
        'flagsChanged', 'flagsChanged', 'copied', 'copied', 'expunged',
        'mailboxChanged', 'mailboxChanged', 'mailboxChanged', 'mailboxChanged', 'failed',
      ]);
      const snapshot = async () => ({
        boxes: await store.mailboxes(t.alice()),
        subs: await store.subscriptions(t.alice()),
        messages: await Promise.all((await store.mailboxes(t.alice())).map((b) => store.messages(b.id))),
      });
      const before = await snapshot();
      // A mailbox named like the failed delete now exists: the replay still answers as the first time.
      await c.apply('mailboxChanged', c.create('Never There'));
      const withNew = await snapshot();
      expect(await store.apply(changes)).toEqual(first);
      for (const change of changes) expect(await store.apply([change])).toEqual([first[changes.indexOf(change)]]);
      expect(await snapshot()).toEqual(withNew);
      expect(withNew.boxes.length).toBe(before.boxes.length + 1);
    });

    it('applies a command id given twice in one call once', async () => {
      await t.store().deliver([t.req(t.alice())]);
      const inbox = await c.boxId('INBOX');
      const copy = c.copy(inbox, [1], 'Archive');
      const [a, b] = await t.store().apply([copy, copy]);
      expect(b).toEqual(a);
      expect((await t.store().mailbox(t.alice(), 'Archive'))?.messages).toBe(1);
    });

    it('keeps changes, tombstones, subscriptions, settings and applied ids across close and reopen', async () => {
      await t.store().deliver([t.req(t.alice()), t.req(t.alice())]);
      const inbox = (await t.store().mailbox(t.alice(), 'INBOX'))!;
      const flags = c.setFlags(inbox.id, [1, 2], 'add', ['\\Deleted', '$Kept']);
      const applied = await t.store().apply([flags, c.expunge(inbox.id, [2]), c.create('Durable'), c.subscribe('Sent', false)]);
      await t.store().updateUser(t.alice(), { pop3KeepMail: true });
      const summaries = await t.store().summaries(inbox.id);

      const store = await t.reopen();
      expect(await store.summaries(inbox.id)).toEqual(summaries);
      expect((await store.changes(inbox.id, inbox.highestModseq)).expunged).toEqual([2]);
      expect(await store.mailbox(t.alice(), 'Durable')).not.toBeNull();
      expect(await store.subscriptions(t.alice())).not.toContain('Sent');
      expect((await store.user(t.alice()))?.pop3KeepMail).toBe(true);
      expect(await store.apply([flags])).toEqual([applied[0]]);
      expect(await store.summaries(inbox.id)).toEqual(summaries);
    });
  });
}
