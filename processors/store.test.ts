import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FsBlobStore } from '../connectors/blob/fs.ts';
import { readMessageBytes } from '../connectors/blob/body.ts';
import { InProcessPushBus } from '../connectors/push/push.ts';
import { SqliteSearchIndex } from '../connectors/search/sqlite.ts';
import { SqliteMailStore } from '../connectors/store/sqlite.ts';
import type { MailStore } from '../connectors/store/store.ts';
import type { FileSync } from '../connectors/wal-commit.ts';
import { schemaType } from '../schemas/registry.ts';
import type { MailboxCommand, MailboxCommandBody, MailboxEvent } from '../schemas/types.ts';
import type { InputRecord, Processor, Resources } from './processor.ts';
import { storeProcessor } from './store.ts';

const ALICE = 'alice@example.test';
const BLOB = 'c'.repeat(64);

function command(n: number, over: Partial<NonNullable<MailboxCommand['deliver']>> = {}): MailboxCommand {
  return {
    commandId: `cmd-${n}`,
    userId: ALICE,
    issuedAt: 1_700_000_000_000 + n,
    deliver: {
      messageKey: `ingress-${n}:${ALICE}`,
      mailbox: 'INBOX',
      flags: [],
      receivedAt: 1_700_000_000_000 + n,
      size: 321,
      rawBlob: BLOB,
      skeletonBlob: BLOB,
      parts: [],
      messageId: `<m${n}@example.test>`,
      inReplyTo: null,
      references: [],
      subject: `subject ${n}`,
      from: [{ name: 'Bob', address: 'bob@remote.test' }],
      to: [{ name: '', address: ALICE }],
      cc: [],
      date: 1_699_999_000_000,
      headers: `Subject: subject ${n}\nFrom: Bob <bob@remote.test>`,
      text: `body text ${n}`,
      attachmentNames: ['plan.pdf'],
      ...over,
    },
  };
}

/** A client change command (only `body`'s field set), as it comes off the log: through the Avro type. */
function change(id: string, body: MailboxCommandBody): MailboxCommand {
  return decodeCommand({ commandId: id, userId: ALICE, issuedAt: 1_700_000_100_000, deliver: null, ...body });
}

const commandType = schemaType('MailboxCommand');
const eventType = schemaType('MailboxEvent');
function decodeCommand(value: MailboxCommand): MailboxCommand {
  return commandType.fromBuffer(commandType.toBuffer(value)) as MailboxCommand;
}

function input(value: MailboxCommand, offset = 0): InputRecord<MailboxCommand> {
  const decoded = decodeCommand(value);
  return { topic: 'mailbox.commands', partition: 0, offset, key: decoded.userId, value: decoded, headers: {}, timestamp: decoded.issuedAt };
}

/** The events of a batch's outputs, each checked to encode with the MailboxEvent schema and read back unchanged. */
function eventsOf(outputs: { key: string; value: MailboxEvent }[][]): MailboxEvent[] {
  return outputs.map((o) => {
    expect(o).toHaveLength(1);
    expect(o[0].key).toBe(ALICE);
    const event = o[0].value;
    expect(eventType.isValid(event)).toBe(true);
    expect(eventType.fromBuffer(eventType.toBuffer(event))).toMatchObject(event);
    return event;
  });
}

describe('store stage', () => {
  let dir: string;
  let stores: SqliteMailStore[];
  let resources: Resources;
  let stage: Processor<MailboxCommand, MailboxEvent>;

  async function newResources(name: string, syncFile?: FileSync): Promise<Resources> {
    const store = new SqliteMailStore({ path: path.join(dir, `${name}.db`), syncFile });
    stores.push(store);
    await store.addDomain('example.test');
    await store.addUser(ALICE, 'hash');
    return {
      blobs: new FsBlobStore({ dir: path.join(dir, 'blobs') }),
      store,
      search: new SqliteSearchIndex({ path: path.join(dir, `${name}-search.db`) }),
      push: new InProcessPushBus(),
      logger: pino({ level: 'silent' }),
      now: Date.now,
    };
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
    stores = [];
    resources = await newResources('main');
    stage = storeProcessor.create(storeProcessor.spec.config.parse({}), resources);
  });
  afterEach(async () => {
    for (const store of stores) await store.close();
    await resources.search.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('declares its name and records', () => {
    expect(storeProcessor.name).toBe('store');
    expect(storeProcessor.spec.input).toBe('MailboxCommand');
    expect(storeProcessor.spec.output).toBe('MailboxEvent');
  });

  it('stores a delivery and emits a MailboxEvent describing it', async () => {
    const cmd = command(1, { flags: ['\\Seen'], cc: [{ name: 'Cy', address: 'cy@example.test' }] });
    const outputs = await stage.process(input(cmd));
    const inbox = await resources.store.mailbox(ALICE, 'INBOX');
    const stored = await resources.store.message(cmd.deliver!.messageKey);
    expect(stored).not.toBeNull();
    expect(stored!.flags).toEqual(['\\Seen']);
    expect(outputs).toEqual([
      {
        key: ALICE,
        value: {
          eventId: `deliver:${cmd.deliver!.messageKey}`,
          userId: ALICE,
          at: cmd.issuedAt,
          commandId: 'cmd-1',
          delivered: {
            messageKey: cmd.deliver!.messageKey,
            mailboxId: inbox!.id,
            mailbox: 'INBOX',
            uid: 1,
            modseq: 1,
            threadId: stored!.threadId,
            receivedAt: cmd.deliver!.receivedAt,
            size: 321,
            subject: 'subject 1',
            from: [{ name: 'Bob', address: 'bob@remote.test' }],
            to: [{ name: '', address: ALICE }],
            cc: [{ name: 'Cy', address: 'cy@example.test' }],
            headers: 'Subject: subject 1\nFrom: Bob <bob@remote.test>',
            text: 'body text 1',
            attachmentNames: ['plan.pdf'],
          },
        },
      },
    ]);
    expect(inbox).toMatchObject({ messages: 1, unseen: 0 });
  });

  it('is idempotent: a replayed command stores nothing new and yields the same event', async () => {
    const cmd = command(1);
    const first = await stage.process(input(cmd, 0));
    const again = await stage.process(input(cmd, 0));
    const viaBatch = await stage.processBatch!([input(cmd, 0)]);
    expect(again).toEqual(first);
    expect(viaBatch).toEqual([first]);
    expect(await resources.store.countMessages(ALICE)).toBe(1);
    expect((await resources.store.mailbox(ALICE, 'INBOX'))?.uidNext).toBe(2);
  });

  it('processBatch gives the same outputs as process on each record, in order', async () => {
    const commands = [
      command(1),
      command(2, { mailbox: 'Junk' }),
      command(3, { inReplyTo: '<m1@example.test>' }),
      command(1),
    ];
    const batched = await stage.processBatch!(commands.map((c, i) => input(c, i)));
    const other = await newResources('other');
    const single = storeProcessor.create({}, other);
    const oneByOne = [];
    for (const [i, c] of commands.entries()) oneByOne.push(await single.process(input(c, i)));
    await other.search.close();
    expect(batched).toEqual(oneByOne);
    expect(batched.map((o) => o[0].value.delivered!.uid)).toEqual([1, 1, 2, 1]);
    expect(batched[2][0].value.delivered!.threadId).toBe(batched[0][0].value.delivered!.threadId);
    expect(await resources.store.countMessages(ALICE)).toBe(3);
  });

  it('keeps the message bytes reachable: the stored body reassembles from the blob store', async () => {
    const raw = Buffer.from('Subject: x\r\n\r\n' + 'A'.repeat(500) + '\r\n');
    const skeleton = Buffer.concat([raw.subarray(0, 14), raw.subarray(514)]);
    const partBlob = await resources.blobs.put(raw.subarray(14, 514));
    const skeletonBlob = await resources.blobs.put(skeleton);
    const cmd = command(1, { skeletonBlob, parts: [{ offset: 14, length: 500, blob: partBlob }] });
    await stage.process(input(cmd));
    const stored = await resources.store.message(cmd.deliver!.messageKey);
    expect(await readMessageBytes(resources.blobs, stored!.body)).toEqual(raw);
  });

  it('throws for a command with no known field (the runner dead-letters it), storing nothing', async () => {
    const empty: MailboxCommand = { commandId: 'cmd-x', userId: ALICE, issuedAt: 1, deliver: null };
    await expect(stage.process(input(empty))).rejects.toThrow(/no known command field/);
    await expect(stage.processBatch!([input(command(1)), input(empty, 1)])).rejects.toThrow();
    expect(await resources.store.countMessages(ALICE)).toBe(0);
  });

  it('applies each kind of client change and emits one event per command, named by the command id', async () => {
    await stage.processBatch!([command(1), command(2), command(3)].map((c, i) => input(c, i)));
    const inbox = (await resources.store.mailbox(ALICE, 'INBOX'))!;
    const commands = [
      change('c-flags', { setFlags: { mailboxId: inbox.id, uids: [1, 2], mode: 'add', flags: ['\\Deleted'], unchangedSince: null } }),
      change('c-copy', { copy: { fromMailboxId: inbox.id, uids: [1], toMailbox: 'Archive', move: false } }),
      change('c-move', { copy: { fromMailboxId: inbox.id, uids: [3], toMailbox: 'Trash', move: true } }),
      change('c-expunge', { expunge: { mailboxId: inbox.id, uids: [1, 2, 3], onlyDeleted: true } }),
      change('c-create', { createMailbox: { name: 'Work/2026', specialUse: null } }),
      change('c-rename', { renameMailbox: { from: 'Work', to: 'Job' } }),
      change('c-subscribe', { subscribe: { name: 'Job/2026', subscribed: true } }),
      change('c-delete', { deleteMailbox: { name: 'Archive' } }),
      change('c-fail', { copy: { fromMailboxId: inbox.id, uids: [1], toMailbox: 'Nowhere', move: false } }),
      change('c-useattr', { createMailbox: { name: 'Odd', specialUse: '\\Bogus' } }),
    ];
    const events = eventsOf(await stage.processBatch!(commands.map((c, i) => input(c, i))));
    for (const [i, event] of events.entries()) {
      expect(event).toMatchObject({ eventId: commands[i].commandId, commandId: commands[i].commandId, userId: ALICE, at: 1_700_000_100_000, delivered: null });
    }
    const [flags, copy, move, expunge, create, rename, subscribe, remove, fail, useattr] = events;
    expect(flags.flagsChanged).toMatchObject({ mailboxId: inbox.id, mailbox: 'INBOX', conflicts: [] });
    expect(flags.flagsChanged!.changed.map((c) => [c.uid, c.flags])).toEqual([[1, ['\\Deleted']], [2, ['\\Deleted']]]);
    expect(copy.copied).toMatchObject({ toMailbox: 'Archive', moved: false, sourceUids: [1], targetUids: [1] });
    expect(copy.copied!.copies).toEqual([{ fromKey: 'ingress-1:alice@example.test', toKey: 'copy:c-copy:ingress-1:alice@example.test' }]);
    expect(move.copied).toMatchObject({ toMailbox: 'Trash', moved: true, sourceUids: [3], targetUids: [1] });
    expect(expunge.expunged).toMatchObject({ mailboxId: inbox.id, uids: [1, 2], messageKeys: ['ingress-1:alice@example.test', 'ingress-2:alice@example.test'] });
    expect(create.mailboxChanged).toMatchObject({ change: 'created', name: 'Work/2026', oldName: null, removedKeys: [] });
    expect(rename.mailboxChanged).toMatchObject({ change: 'renamed', name: 'Job', oldName: 'Work' });
    expect(subscribe.mailboxChanged).toMatchObject({ change: 'subscribed', name: 'Job/2026' });
    expect(remove.mailboxChanged).toMatchObject({ change: 'deleted', name: 'Archive', removedKeys: ['copy:c-copy:ingress-1:alice@example.test'] });
    expect(fail.failed).toEqual({ code: 'TRYCREATE', message: expect.any(String) });
    expect(useattr.failed?.code).toBe('USEATTR');

    expect(await resources.store.countMessages(ALICE)).toBe(1);
    expect(await resources.store.mailbox(ALICE, 'Job/2026')).toMatchObject({ subscribed: true });
    // A replay of the whole batch gives identical events and changes nothing.
    const replayed = eventsOf(await stage.processBatch!(commands.map((c, i) => input(c, i))));
    expect(replayed).toEqual(events);
    expect(await resources.store.countMessages(ALICE)).toBe(1);
  });

  it('announces each applied event once the store commits, before its fsync ends and the batch resolves', async () => {
    const syncs: (() => void)[] = [];
    let gated = false;
    const gatedSync: FileSync = () => (gated ? new Promise<void>((resolve) => syncs.push(resolve)) : Promise.resolve());
    const own = await newResources('gated', gatedSync);
    const gatedStage = storeProcessor.create(storeProcessor.spec.config.parse({}), own);
    await gatedStage.processBatch!([command(1), command(2)].map((c, i) => input(c, i)));
    const inbox = (await own.store.mailbox(ALICE, 'INBOX'))!;
    const announced: MailboxEvent[] = [];
    own.push.subscribeApplied((event) => announced.push(event));
    gated = true;

    let resolved = false;
    const batch = gatedStage
      .processBatch!([
        input(command(3), 2),
        input(change('c-seen', { setFlags: { mailboxId: inbox.id, uids: [1], mode: 'add', flags: ['\\Seen'], unchangedSince: null } }), 3),
      ])
      .then((outputs) => {
        resolved = true;
        return outputs;
      });
    // The delivery's run is committed and readable; its fsync waits, and so does the batch.
    await vi.waitFor(() => expect(syncs).toHaveLength(1));
    expect(announced.map((e) => e.eventId)).toEqual(['deliver:ingress-3:alice@example.test']);
    expect(announced[0].delivered).toMatchObject({ uid: 3, text: '' });
    expect((await own.store.mailbox(ALICE, 'INBOX'))!.messages).toBe(3);
    syncs.shift()!();
    // Then the change's run: announced while its own fsync waits.
    await vi.waitFor(() => expect(syncs).toHaveLength(1));
    expect(announced.map((e) => e.eventId)).toEqual(['deliver:ingress-3:alice@example.test', 'c-seen']);
    expect(announced[1].flagsChanged!.changed).toMatchObject([{ uid: 1, flags: ['\\Seen'] }]);
    expect(resolved).toBe(false);
    syncs.shift()!();
    const events = eventsOf(await batch);
    expect(events.map((e) => e.eventId)).toEqual(['deliver:ingress-3:alice@example.test', 'c-seen']);
    expect(events[1]).toEqual(announced[1]);
    expect(announced).toHaveLength(2);
  });

  it('announces each applied event once it is durable, with a store that does not tell when its writes are visible', async () => {
    const store = resources.store;
    // A store without `visible` (as Cassandra's: its writes are durable when they are readable).
    const quiet: MailStore = Object.assign(Object.create(store) as MailStore, {
      deliver: (requests: Parameters<MailStore['deliver']>[0]) => store.deliver(requests),
      apply: (changes: Parameters<MailStore['apply']>[0]) => store.apply(changes),
    });
    const quietStage = storeProcessor.create(storeProcessor.spec.config.parse({}), { ...resources, store: quiet });
    const announced: MailboxEvent[] = [];
    resources.push.subscribeApplied((event) => announced.push(event));
    const events = eventsOf(await quietStage.processBatch!([input(command(1), 0), input(change('c-create', { createMailbox: { name: 'Later', specialUse: null } }), 1)]));
    expect(announced.map((e) => e.eventId)).toEqual(['deliver:ingress-1:alice@example.test', 'c-create']);
    expect(announced[1]).toEqual(events[1]);
  });

  it('processBatch keeps the order of mixed deliveries and changes, as process does one by one', async () => {
    const flagsCmd = (id: string, mailboxId: number, uids: number[]) =>
      change(id, { setFlags: { mailboxId, uids, mode: 'replace', flags: ['\\Seen'], unchangedSince: null } });
    const inboxId = (await resources.store.mailbox(ALICE, 'INBOX'))!.id;
    const commands = [
      command(1),
      flagsCmd('f-1', inboxId, [1, 2]),
      command(2),
      change('x-1', { expunge: { mailboxId: inboxId, uids: [1], onlyDeleted: false } }),
      change('m-1', { createMailbox: { name: 'Later', specialUse: null } }),
      command(3, { mailbox: 'Later' }),
      flagsCmd('f-2', inboxId, [1, 2]),
    ];
    const batched = eventsOf(await stage.processBatch!(commands.map((c, i) => input(c, i))));
    const other = await newResources('other');
    const single = storeProcessor.create({}, other);
    const oneByOne: MailboxEvent[] = [];
    for (const [i, c] of commands.entries()) oneByOne.push(...eventsOf([await single.process(input(c, i))]));
    await other.search.close();
    // Mailbox ids are the same in both fresh stores, so the events are too.
    expect(batched).toEqual(oneByOne);
    // The first flags change only sees message 1 (2 is not delivered yet); the last sees 2 only.
    expect(batched[1].flagsChanged!.changed.map((c) => c.uid)).toEqual([1]);
    expect(batched[3].expunged!.uids).toEqual([1]);
    expect(batched[5].delivered).toMatchObject({ mailbox: 'Later', uid: 1 });
    expect(batched[6].flagsChanged!.changed.map((c) => c.uid)).toEqual([2]);
  });

  it('throws for a setFlags command with an unknown mode, applying nothing of the batch', async () => {
    const inboxId = (await resources.store.mailbox(ALICE, 'INBOX'))!.id;
    const bad = change('bad', { setFlags: { mailboxId: inboxId, uids: [1], mode: 'toggle' as 'add', flags: [], unchangedSince: null } });
    await expect(stage.process(input(bad))).rejects.toThrow(/mode/);
    await expect(stage.processBatch!([input(command(1)), input(bad, 1)])).rejects.toThrow();
    expect(await resources.store.countMessages(ALICE)).toBe(0);
  });

  it('throws for a delivery to an unknown user', async () => {
    const cmd = { ...command(1), userId: 'nobody@example.test' };
    await expect(stage.process(input(cmd))).rejects.toThrow(/unknown user/);
  });
});
