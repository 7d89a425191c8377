/**
 * The contract every `MailStore` implementation passes (embedded SQLite, Cassandra): run it
 * from the implementation's test file with `runMailStoreConformance('name', factory)`.
 *
 * Only the `MailStore` interface is used. Each test works in its own fresh domain and users,
 * and global counts are compared before and after, so a shared cluster can be used.
 * Batch atomicity is not part of the contract (Cassandra has no multi-row transactions);
 * idempotency by message key and by command id is, and is what makes a replayed batch safe.
 * Client changes (`apply`) are tested in `conformance-messages.ts` and `conformance-mailboxes.ts`.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAILBOXES } from './store.ts';
import type { DeliverRequest, MailStore, StoredMessage } from './store.ts';
import type { ConformanceContext } from './conformance-context.ts';
import { describeMessageChanges } from './conformance-messages.ts';
import { describeMailboxChanges } from './conformance-mailboxes.ts';

export interface MailStoreUnderTest {
  readonly store: MailStore;
  /** Opens a new `MailStore` over the same storage (the test has closed `store` first). */
  readonly reopen: () => Promise<MailStore>;
  /** Closes every store the factory opened (close is idempotent) and removes the storage. */
  readonly cleanup: () => Promise<void>;
}

const BLOB_A = 'a'.repeat(64);
const BLOB_B = 'b'.repeat(64);

export function runMailStoreConformance(name: string, newStore: () => Promise<MailStoreUnderTest>): void {
  describe(`MailStore conformance: ${name}`, () => {
    let subject: MailStoreUnderTest;
    let store: MailStore;
    let domain: string;
    let alice: string;
    let bob: string;
    let seq: number;
    let commands: number;

    /** A delivery request for `userId` with sensible defaults. */
    function req(userId: string, over: Partial<DeliverRequest> = {}): DeliverRequest {
      seq += 1;
      return {
        messageKey: `${domain}:key-${seq}`,
        userId,
        mailbox: 'INBOX',
        flags: [],
        receivedAt: 1_700_000_000_000 + seq * 1000,
        size: 1234,
        body: { skeletonBlob: BLOB_A, parts: [] },
        messageId: `<m${seq}.${domain}>`,
        inReplyTo: null,
        references: [],
        subject: `message ${seq}`,
        from: [{ name: 'Bob', address: bob }],
        to: [{ name: '', address: alice }],
        cc: [],
        date: 1_699_999_999_000,
        ...over,
      };
    }

    const context: ConformanceContext = {
      store: () => store,
      reopen: async () => {
        await store.close();
        store = await subject.reopen();
        return store;
      },
      domain: () => domain,
      alice: () => alice,
      bob: () => bob,
      req: (userId, over) => req(userId, over),
      commandId: () => `${domain}:cmd-${++commands}`,
    };

    beforeEach(async () => {
      subject = await newStore();
      store = subject.store;
      seq = 0;
      commands = 0;
      domain = `d${randomBytes(5).toString('hex')}.test`;
      alice = `alice@${domain}`;
      bob = `bob@${domain}`;
      await store.addDomain(domain);
      await store.addUser(alice, 'hash-a');
      await store.addUser(bob, 'hash-b');
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('health() answers ok with its kind and latency, and not ok once closed', async () => {
      const up = await store.health();
      expect(up).toMatchObject({ ok: true });
      expect(up.kind).toMatch(/^[a-z0-9]+$/);
      expect(up.latencyMs).toBeGreaterThanOrEqual(0);
      await store.close();
      const down = await store.health();
      expect(down).toMatchObject({ ok: false, kind: up.kind });
      expect(down.error).toBeTruthy();
    });

    describe('directory', () => {
      it('adds domains idempotently and matches them case-insensitively', async () => {
        await store.addDomain(domain.toUpperCase());
        expect((await store.domains()).filter((d) => d === domain)).toEqual([domain]);
        expect(await store.isLocalDomain(domain.toUpperCase())).toBe(true);
        expect(await store.isLocalDomain(`other-${domain}`)).toBe(false);
      });

      it('creates users with lowercase ids, found case-insensitively', async () => {
        const user = await store.addUser(`Carol@${domain.toUpperCase()}`, 'hash-c');
        expect(user.id).toBe(`carol@${domain}`);
        expect(user.passwordHash).toBe('hash-c');
        expect(user.createdAt).toBeGreaterThan(0);
        const found = await store.user(`CAROL@${domain}`);
        expect(found?.id).toBe(user.id);
        expect(found?.passwordHash).toBe('hash-c');
        expect(await store.user(`nobody@${domain}`)).toBeNull();
        const ids = (await store.users()).map((u) => u.id);
        expect(ids).toEqual(expect.arrayContaining([alice, bob, user.id]));
      });

      it('refuses a duplicate user and a user of a domain that is not local', async () => {
        await expect(store.addUser(alice.toUpperCase(), 'x')).rejects.toThrow();
        await expect(store.addUser(`dave@not-local-${domain}`, 'x')).rejects.toThrow();
        expect(await store.user(`dave@not-local-${domain}`)).toBeNull();
      });

      it('updates a user: password and the POP3 keep-mail setting, each alone', async () => {
        expect((await store.user(alice))?.pop3KeepMail).toBe(false);
        const kept = await store.updateUser(alice.toUpperCase(), { pop3KeepMail: true });
        expect(kept).toMatchObject({ id: alice, passwordHash: 'hash-a', pop3KeepMail: true });
        const rehashed = await store.updateUser(alice, { passwordHash: 'hash-a2' });
        expect(rehashed).toMatchObject({ passwordHash: 'hash-a2', pop3KeepMail: true });
        expect(await store.user(alice)).toEqual(rehashed);
        expect((await store.updateUser(alice, { pop3KeepMail: false })).pop3KeepMail).toBe(false);
        expect((await store.user(bob))).toMatchObject({ passwordHash: 'hash-b', pop3KeepMail: false });
        expect((await store.users()).find((u) => u.id === alice)?.passwordHash).toBe('hash-a2');
        await expect(store.updateUser(`nobody@${domain}`, { pop3KeepMail: true })).rejects.toThrow();
      });

      it('subscribes a new user to the default mailboxes (RFC 9051 §6.3.7)', async () => {
        expect([...(await store.subscriptions(alice))].sort()).toEqual(DEFAULT_MAILBOXES.map((b) => b.name).sort());
        for (const box of await store.mailboxes(alice)) expect(box.subscribed, box.name).toBe(true);
        expect(await store.subscriptions(`nobody@${domain}`)).toEqual([]);
      });

      it('gives each of a user’s mailboxes its own UIDVALIDITY', async () => {
        const boxes = await store.mailboxes(alice);
        expect(new Set(boxes.map((b) => b.uidValidity)).size).toBe(boxes.length);
      });

      it('gives every new user the default mailboxes, empty', async () => {
        const boxes = await store.mailboxes(alice);
        expect(boxes.map((b) => [b.name, b.specialUse])).toEqual(DEFAULT_MAILBOXES.map((b) => [b.name, b.specialUse]));
        for (const box of boxes) {
          expect(box.userId).toBe(alice);
          expect(box.uidNext).toBe(1);
          expect(box.uidValidity).toBeGreaterThan(0);
          expect(box.messages).toBe(0);
          expect(box.unseen).toBe(0);
        }
        expect(new Set(boxes.map((b) => b.id)).size).toBe(boxes.length);
        expect((await store.mailbox(alice, 'Sent'))?.specialUse).toBe('\\Sent');
        expect((await store.mailbox(alice, 'inbox'))?.name).toBe('INBOX'); // RFC 9051 §5.1
        expect(await store.mailbox(alice, 'No Such Box')).toBeNull();
      });
    });

    describe('deliver', () => {
      it('stores a message with every field and assigns UID 1, MODSEQ 1', async () => {
        const request = req(alice, {
          flags: ['$Important'],
          body: { skeletonBlob: BLOB_A, parts: [{ offset: 100, length: 5000, blob: BLOB_B }] },
          cc: [{ name: 'Zoë', address: `zoe@${domain}` }],
          date: null,
        });
        const [result] = await store.deliver([request]);
        expect(result.created).toBe(true);
        const inbox = await store.mailbox(alice, 'INBOX');
        const expected = {
          messageKey: request.messageKey,
          userId: alice,
          mailboxId: inbox!.id,
          mailbox: 'INBOX',
          uid: 1,
          modseq: 1,
          flags: ['$Important'],
          receivedAt: request.receivedAt,
          size: 1234,
          body: request.body,
          messageId: request.messageId,
          subject: request.subject,
          from: request.from,
          to: request.to,
          cc: request.cc,
          date: null,
        };
        expect(result.message).toMatchObject(expected);
        expect(typeof result.message.threadId).toBe('string');
        expect(result.message.threadId.length).toBeGreaterThan(0);
        expect(await store.message(request.messageKey)).toEqual(result.message);
        expect(inbox).toMatchObject({ uidNext: 2, highestModseq: 1, messages: 1, unseen: 1 });
        expect(await store.message(`${domain}:missing`)).toBeNull();
      });

      it('is idempotent by message key: across calls and within one batch', async () => {
        const request = req(alice);
        const [first] = await store.deliver([request]);
        const again = await store.deliver([request, { ...request, subject: 'changed', mailbox: 'Junk' }]);
        expect(again.map((r) => r.created)).toEqual([false, false]);
        expect(again[0].message).toEqual(first.message);
        expect(again[1].message).toEqual(first.message);

        const fresh = req(alice);
        const batch = await store.deliver([fresh, fresh]);
        expect(batch.map((r) => r.created)).toEqual([true, false]);
        expect(batch[1].message.uid).toBe(batch[0].message.uid);
        expect(await store.countMessages(alice)).toBe(2);
        expect((await store.mailbox(alice, 'INBOX'))).toMatchObject({ uidNext: 3, messages: 2 });
      });

      it('assigns increasing UIDs per mailbox and increasing MODSEQs', async () => {
        const results = await store.deliver([
          req(alice),
          req(alice, { mailbox: 'Junk' }),
          req(alice),
          req(bob),
          req(alice, { mailbox: 'Junk' }),
          req(alice),
        ]);
        const a = results.filter((r) => r.message.userId === alice && r.message.mailbox === 'INBOX');
        expect(a.map((r) => r.message.uid)).toEqual([1, 2, 3]);
        expect(a.map((r) => r.message.modseq)).toEqual([1, 2, 3]);
        const junk = results.filter((r) => r.message.mailbox === 'Junk');
        expect(junk.map((r) => r.message.uid)).toEqual([1, 2]);
        expect(results[3].message).toMatchObject({ userId: bob, uid: 1 });
        const later = await store.deliver([req(alice)]);
        expect(later[0].message.uid).toBe(4);
        expect(later[0].message.modseq).toBeGreaterThan(3);
        const inbox = await store.mailbox(alice, 'INBOX');
        expect(inbox?.uidNext).toBe(5);
        expect(inbox?.highestModseq).toBe(later[0].message.modseq);
      });

      it('creates a mailbox the user does not have (an imported folder), and delivers to "inbox" in any case', async () => {
        const [r1, r2, r3] = await store.deliver([req(alice, { mailbox: 'Projects/2026' }), req(alice, { mailbox: 'InBox' }), req(alice, { mailbox: 'Projects/2026' })]);
        expect(r1.message.mailbox).toBe('Projects/2026');
        expect(r1.message.uid).toBe(1);
        expect(r3.message.uid).toBe(2);
        expect(r2.message.mailbox).toBe('INBOX');
        expect((await store.mailbox(alice, 'Projects/2026'))?.specialUse).toBeNull();
      });

      it('counts unseen messages: \\Seen marks a message seen', async () => {
        await store.deliver([
          req(alice, { flags: ['\\Seen'] }),
          req(alice),
          req(alice, { flags: ['\\Flagged', '\\seen'] }),
          req(alice, { mailbox: 'Sent', flags: ['\\Seen'] }),
        ]);
        const boxes = new Map((await store.mailboxes(alice)).map((b) => [b.name, b]));
        expect(boxes.get('INBOX')).toMatchObject({ messages: 3, unseen: 1 });
        expect(boxes.get('Sent')).toMatchObject({ messages: 1, unseen: 0 });
        expect(boxes.get('Drafts')).toMatchObject({ messages: 0, unseen: 0 });
      });

      it('refuses a delivery to an unknown user', async () => {
        await expect(store.deliver([req(`nobody@${domain}`)])).rejects.toThrow();
      });
    });

    describe('threads', () => {
      it('puts a reply in its parent’s thread (In-Reply-To or References) and unrelated mail apart', async () => {
        const [parent, other] = await store.deliver([req(alice, { messageId: '<p@x>' }), req(alice, { messageId: '<o@x>' })]);
        const [reply] = await store.deliver([req(alice, { messageId: '<r1@x>', inReplyTo: '<p@x>' })]);
        const [deep] = await store.deliver([req(alice, { messageId: '<r2@x>', references: ['<p@x>', '<r1@x>'] })]);
        expect(reply.message.threadId).toBe(parent.message.threadId);
        expect(deep.message.threadId).toBe(parent.message.threadId);
        expect(other.message.threadId).not.toBe(parent.message.threadId);
        const thread = await store.thread(alice, parent.message.threadId);
        expect(thread.map((m) => m.messageKey)).toEqual([parent, reply, deep].map((r) => r.message.messageKey));
      });

      it('joins a parent that arrives after its reply', async () => {
        const [child] = await store.deliver([req(alice, { messageId: '<c@x>', inReplyTo: '<late-parent@x>' })]);
        const [parent] = await store.deliver([req(alice, { messageId: '<late-parent@x>' })]);
        expect(parent.message.threadId).toBe(child.message.threadId);
      });

      it('merges two threads that a third message connects', async () => {
        const [a] = await store.deliver([req(alice, { messageId: '<a@x>' })]);
        const [a2] = await store.deliver([req(alice, { messageId: '<a2@x>', inReplyTo: '<a@x>' })]);
        const [b] = await store.deliver([req(alice, { messageId: '<b@x>' })]);
        expect(a.message.threadId).not.toBe(b.message.threadId);
        const [c] = await store.deliver([req(alice, { messageId: '<c@x>', references: ['<a@x>', '<b@x>'] })]);
        const keys = [a, a2, b, c].map((r) => r.message.messageKey);
        const now = await Promise.all(keys.map((k) => store.message(k)));
        expect(new Set(now.map((m) => m!.threadId)).size).toBe(1);
        expect(now[0]!.threadId).toBe(c.message.threadId);
        expect((await store.thread(alice, c.message.threadId)).map((m) => m.messageKey)).toEqual(keys);
        // A later reply to the merged-away thread lands in the merged thread too.
        const [d] = await store.deliver([req(alice, { messageId: '<d@x>', inReplyTo: '<b@x>' })]);
        expect(d.message.threadId).toBe(c.message.threadId);
      });

      it('threads within one batch, ignoring angle brackets, and per user', async () => {
        const [p, r, bobs] = await store.deliver([
          req(alice, { messageId: '<same@x>' }),
          req(alice, { messageId: 'reply@x', inReplyTo: 'same@x' }),
          req(bob, { messageId: '<same@x>' }),
        ]);
        expect(r.message.threadId).toBe(p.message.threadId);
        expect(bobs.message.threadId).not.toBe(p.message.threadId);
        expect((await store.thread(bob, p.message.threadId)).length).toBe(0);
      });

      it('gives a message without Message-ID its own thread', async () => {
        const [x, y] = await store.deliver([req(alice, { messageId: null }), req(alice, { messageId: null })]);
        expect(x.message.threadId).not.toBe(y.message.threadId);
        expect(x.message.messageId).toBeNull();
      });
    });

    describe('reads', () => {
      it('finds a mailbox by id, with its message count, unseen count and size (RFC 8438)', async () => {
        await store.deliver([req(alice, { size: 100 }), req(alice, { size: 250, flags: ['\\Seen'] }), req(alice, { mailbox: 'Sent', size: 7 })]);
        const inbox = await store.mailbox(alice, 'INBOX');
        expect(inbox).toMatchObject({ messages: 2, unseen: 1, size: 350, subscribed: true });
        expect(await store.mailboxById(inbox!.id)).toEqual(inbox);
        expect((await store.mailbox(alice, 'Drafts'))?.size).toBe(0);
        const missing = Math.max(...(await store.mailboxes(alice)).map((b) => b.id), ...(await store.mailboxes(bob)).map((b) => b.id)) + 1000;
        expect(await store.mailboxById(missing)).toBeNull();
      });

      it('sums a user’s usage over all mailboxes (RFC 9208)', async () => {
        expect(await store.usage(alice)).toEqual({ messages: 0, bytes: 0 });
        await store.deliver([req(alice, { size: 100 }), req(alice, { mailbox: 'Junk', size: 23 }), req(bob, { size: 5 })]);
        expect(await store.usage(alice)).toEqual({ messages: 2, bytes: 123 });
        expect(await store.usage(bob)).toEqual({ messages: 1, bytes: 5 });
      });

      it('reads messages by UID (missing ones skipped), in UID order', async () => {
        await store.deliver(Array.from({ length: 5 }, () => req(alice)));
        const inbox = (await store.mailbox(alice, 'INBOX'))!;
        const found = await store.messagesByUid(inbox.id, [5, 1, 99, 3, 3]);
        expect(found.map((m) => m.uid)).toEqual([1, 3, 5]);
        expect(found[0]).toEqual(await store.message(found[0].messageKey));
        expect(await store.messagesByUid(inbox.id, [])).toEqual([]);
      });

      it('reads the lean facts of messages by UID (ranges with holes, any order), in UID order', async () => {
        const delivered = await store.deliver(Array.from({ length: 6 }, (_, i) => req(alice, { size: 10 + i, flags: i === 2 ? ['\\Seen'] : [] })));
        const inbox = (await store.mailbox(alice, 'INBOX'))!;
        const full = await store.messagesByUid(inbox.id, [1, 2, 3, 4, 5, 6]);
        const facts = (m: StoredMessage) => ({ messageKey: m.messageKey, uid: m.uid, modseq: m.modseq, flags: m.flags, receivedAt: m.receivedAt, size: m.size });
        expect(await store.messageFacts(inbox.id, [1, 2, 3, 4, 5, 6])).toEqual(full.map(facts));
        expect(await store.messageFacts(inbox.id, [2, 3, 5, 6])).toEqual([full[1], full[2], full[4], full[5]].map(facts));
        expect(await store.messageFacts(inbox.id, [6, 1, 99])).toEqual([full[0], full[5]].map(facts));
        expect(await store.messageFacts(inbox.id, [1, 1000])).toEqual([full[0]].map(facts));
        expect(await store.messageFacts(inbox.id, [])).toEqual([]);
        expect((await store.messagesByUid(inbox.id, [2, 3, 5])).map((m) => m.uid)).toEqual([2, 3, 5]);
        expect(full[2].flags).toEqual(['\\Seen']);
        expect(delivered).toHaveLength(6);
      });

      it('lists UID, MODSEQ and flags of every message in UID order (summaries)', async () => {
        const delivered = await store.deliver([req(alice, { flags: ['\\Seen', '$Label'] }), req(alice), req(alice, { mailbox: 'Junk' })]);
        const inbox = (await store.mailbox(alice, 'INBOX'))!;
        expect(await store.summaries(inbox.id)).toEqual([
          { uid: 1, modseq: delivered[0].message.modseq, flags: ['\\Seen', '$Label'] },
          { uid: 2, modseq: delivered[1].message.modseq, flags: [] },
        ]);
      });

      it('never stores \\Recent (RFC 9051 §2.3.2)', async () => {
        const [r] = await store.deliver([req(alice, { flags: ['\\Recent', '\\Flagged', '\\flagged'] })]);
        expect(r.message.flags).toEqual(['\\Flagged']);
      });

      it('pages messages of a mailbox in UID order', async () => {
        await store.deliver(Array.from({ length: 7 }, () => req(alice)));
        await store.deliver([req(alice, { mailbox: 'Junk' })]);
        const inbox = (await store.mailbox(alice, 'INBOX'))!;
        expect((await store.messages(inbox.id)).map((m) => m.uid)).toEqual([1, 2, 3, 4, 5, 6, 7]);
        expect((await store.messages(inbox.id, 0, 3)).map((m) => m.uid)).toEqual([1, 2, 3]);
        expect((await store.messages(inbox.id, 3, 3)).map((m) => m.uid)).toEqual([4, 5, 6]);
        expect((await store.messages(inbox.id, 6, 3)).map((m) => m.uid)).toEqual([7]);
        expect(await store.messages(inbox.id, 7)).toEqual([]);
      });

      it('answers hasMessageId per user, with or without angle brackets', async () => {
        await store.deliver([req(alice, { messageId: '<known@example>' })]);
        expect(await store.hasMessageId(alice, '<known@example>')).toBe(true);
        expect(await store.hasMessageId(alice, 'known@example')).toBe(true);
        expect(await store.hasMessageId(alice, '<unknown@example>')).toBe(false);
        expect(await store.hasMessageId(bob, '<known@example>')).toBe(false);
      });

      it('counts messages per user and in total', async () => {
        const before = await store.countMessages();
        await store.deliver([req(alice), req(alice), req(bob)]);
        expect(await store.countMessages(alice)).toBe(2);
        expect(await store.countMessages(bob)).toBe(1);
        expect(await store.countMessages(`nobody@${domain}`)).toBe(0);
        expect((await store.countMessages()) - before).toBe(3);
      });
    });

    describeMessageChanges(context);
    describeMailboxChanges(context);

    it('keeps everything across close and reopen', async () => {
      const [r] = await store.deliver([req(alice, { flags: ['\\Seen'] })]);
      await store.close();
      store = await subject.reopen();
      expect(await store.isLocalDomain(domain)).toBe(true);
      expect((await store.user(alice))?.passwordHash).toBe('hash-a');
      expect(await store.message(r.message.messageKey)).toEqual(r.message);
      expect(await store.mailbox(alice, 'INBOX')).toMatchObject({ uidNext: 2, highestModseq: 1, messages: 1, unseen: 0 });
      const [next] = await store.deliver([req(alice)]);
      expect(next.message.uid).toBe(2);
    });
  });
}
