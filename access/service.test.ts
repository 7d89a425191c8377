import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAccessTestEnv, type AccessTestEnv } from './test-kit.ts';
import { CommandFailedError } from './mailbox-service.ts';
import type { MailboxEvent } from '../schemas/types.ts';

const ALICE = 'alice@example.test';
const message = (n: number) =>
  `From: Bob <bob@example.org>\nTo: ${ALICE}\nSubject: note ${n}\nMessage-ID: <n${n}@example.org>\n\nbody ${n}\n`;

describe('LogMailboxService over the real embedded pipeline', () => {
  let env: AccessTestEnv;

  beforeAll(async () => {
    env = await startAccessTestEnv();
    await env.addUser(ALICE, 'secret');
    await env.deliverMany(ALICE, [message(1), message(2), message(3)]);
  });
  afterAll(async () => env.close());

  it('answers a flag change only once the store applied it', async () => {
    const inbox = (await env.store.mailbox(ALICE, 'INBOX'))!;
    const event = await env.service.change(ALICE, {
      setFlags: { mailboxId: inbox.id, uids: [1, 2], mode: 'add', flags: ['\\Seen'], unchangedSince: null },
    });
    expect(event.flagsChanged?.changed.map((c) => c.uid)).toEqual([1, 2]);
    // Answered after the store stage applied it: the read model already shows it.
    const rows = await env.store.messagesByUid(inbox.id, [1, 2, 3]);
    expect(rows.map((m) => m.flags.includes('\\Seen'))).toEqual([true, true, false]);
    expect((await env.store.mailbox(ALICE, 'INBOX'))!.unseen).toBe(1);
  });

  it('rejects with the store code when a change cannot apply', async () => {
    await env.service.change(ALICE, { createMailbox: { name: 'Projects', specialUse: null } });
    const again = env.service.change(ALICE, { createMailbox: { name: 'Projects', specialUse: null } });
    await expect(again).rejects.toBeInstanceOf(CommandFailedError);
    await expect(again).rejects.toMatchObject({ code: 'ALREADYEXISTS' });
  });

  it('appends through the receiving flow and returns the new UID', async () => {
    const raw = Buffer.from('From: me@example.test\r\nSubject: draft\r\n\r\nhello\r\n');
    const appended = await env.service.append(ALICE, { mailbox: 'Drafts', flags: ['\\Draft'], internalDate: 1_700_000_000_000, raw });
    const drafts = (await env.store.mailbox(ALICE, 'Drafts'))!;
    expect(appended).toEqual({ mailboxId: drafts.id, uidValidity: drafts.uidValidity, uid: 1 });
    const [stored] = await env.store.messagesByUid(drafts.id, [1]);
    expect(stored.flags).toContain('\\Draft');
    expect(stored.receivedAt).toBe(1_700_000_000_000);
    expect((await env.service.messageBytes(stored)).equals(raw)).toBe(true);
  });

  it('refuses APPEND to a mailbox that does not exist with TRYCREATE', async () => {
    const raw = Buffer.from('Subject: x\r\n\r\ny\r\n');
    await expect(env.service.append(ALICE, { mailbox: 'Nowhere', flags: [], internalDate: Date.now(), raw })).rejects.toMatchObject({ code: 'TRYCREATE' });
    expect(await env.store.mailbox(ALICE, 'Nowhere')).toBeNull();
  });

  it('tells watchers about new mail', async () => {
    const seen: MailboxEvent[] = [];
    const stop = env.service.watch(ALICE, (e) => seen.push(e));
    await env.deliver(ALICE, message(4));
    stop();
    expect(seen.some((e) => e.delivered?.subject === 'note 4')).toBe(true);
  });
});
