import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../connectors/blob/fs.ts';
import { readMessageBytes } from '../connectors/blob/body.ts';
import { InProcessPushBus } from '../connectors/push/push.ts';
import { SqliteSearchIndex } from '../connectors/search/sqlite.ts';
import { SqliteMailStore } from '../connectors/store/sqlite.ts';
import type { MailboxCommand, MailboxEvent } from '../schemas/types.ts';
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
      text: `body text ${n}`,
      attachmentNames: ['plan.pdf'],
      ...over,
    },
  };
}

function input(value: MailboxCommand, offset = 0): InputRecord<MailboxCommand> {
  return { topic: 'mailbox.commands', partition: 0, offset, key: value.userId, value, headers: {}, timestamp: value.issuedAt };
}

describe('store stage', () => {
  let dir: string;
  let stores: SqliteMailStore[];
  let resources: Resources;
  let stage: Processor<MailboxCommand, MailboxEvent>;

  async function newResources(name: string): Promise<Resources> {
    const store = new SqliteMailStore({ path: path.join(dir, `${name}.db`) });
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

  it('throws for a delivery to an unknown user', async () => {
    const cmd = { ...command(1), userId: 'nobody@example.test' };
    await expect(stage.process(input(cmd))).rejects.toThrow(/unknown user/);
  });
});
