import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MailboxCommand, MailboxEvent } from '../schemas/types.ts';
import { indexProcessor, renderAddresses } from './index-stage.ts';
import type { InputRecord } from './processor.ts';
import { openTestResources, type TestResources } from './test-resources.ts';
import { storeProcessor } from './store.ts';

const ALICE = 'alice@example.test';

function event(n: number, over: Partial<NonNullable<MailboxEvent['delivered']>> = {}, userId = ALICE): MailboxEvent {
  return {
    eventId: `deliver:key-${n}`,
    userId,
    at: 1_700_000_000_000,
    delivered: {
      messageKey: `key-${n}`,
      mailboxId: 1,
      mailbox: 'INBOX',
      uid: n,
      modseq: n,
      threadId: `t${n}`,
      receivedAt: 1_700_000_000_000 + n,
      size: 100,
      subject: `subject ${n}`,
      from: [{ name: 'Bob Sender', address: 'bob@remote.test' }],
      to: [{ name: '', address: userId }],
      cc: [],
      headers: `subject: subject ${n}\nfrom: Bob Sender <bob@remote.test>\nto: ${userId}`,
      text: `plain body ${n}`,
      attachmentNames: [],
      ...over,
    },
  };
}

function input<T>(value: T, offset = 0, key = ALICE): InputRecord<T> {
  return { topic: 'mailbox.events', partition: 0, offset, key, value, headers: {}, timestamp: 0 };
}

describe('index stage', () => {
  let resources: TestResources;

  beforeEach(() => {
    resources = openTestResources();
  });
  afterEach(async () => {
    await resources.close();
  });

  const keys = async (field: 'from' | 'to' | 'cc' | 'subject' | 'body' | 'attachments' | 'text', value: string, userId = ALICE) =>
    (await resources.search.search({ userId, terms: [{ field, value }] })).map((h) => h.messageKey);

  it('is a sink named index reading MailboxEvent', () => {
    expect(indexProcessor.name).toBe('index');
    expect(indexProcessor.spec).toMatchObject({ input: 'MailboxEvent', output: null });
  });

  it('indexes a delivery so that search finds it by body word, sender, recipient and attachment', async () => {
    const stage = indexProcessor.create({}, resources);
    const outputs = await stage.process(
      input(event(1, { text: 'the quarterly figures are attached', attachmentNames: ['q3-report.pdf', 'notes.txt'], cc: [{ name: 'Cyril', address: 'cy@x.test' }] })),
    );
    expect(outputs).toEqual([]);
    expect(await keys('body', 'quarterly')).toEqual(['key-1']);
    expect(await keys('from', 'Bob Sender')).toEqual(['key-1']);
    expect(await keys('from', 'bob@remote.test')).toEqual(['key-1']);
    expect(await keys('to', ALICE)).toEqual(['key-1']);
    expect(await keys('cc', 'cyril')).toEqual(['key-1']);
    expect(await keys('attachments', 'report')).toEqual(['key-1']);
    expect(await keys('subject', 'subject')).toEqual(['key-1']);
    expect(await keys('body', 'quarterly', 'someone@else.test')).toEqual([]);
  });

  it('indexes a batch in one call, is idempotent on replay, and ignores events that are not deliveries', async () => {
    const stage = indexProcessor.create({}, resources);
    const other: MailboxEvent = { eventId: 'e', userId: ALICE, at: 0, delivered: null };
    const records = [input(event(1)), input(other, 1), input(event(2, { mailboxId: 2 }), 2)];
    expect(await stage.processBatch!(records)).toEqual([[], [], []]);
    expect(await stage.processBatch!(records)).toEqual([[], [], []]);
    const hits = await resources.search.search({ userId: ALICE, terms: [{ field: 'body', value: 'plain body' }] });
    expect(hits).toEqual([
      { messageKey: 'key-1', mailboxId: 1, uid: 1 },
      { messageKey: 'key-2', mailboxId: 2, uid: 2 },
    ]);
  });

  it('finds mail delivered through the store stage by a word of its body', async () => {
    await resources.store.addDomain('example.test');
    await resources.store.addUser(ALICE, 'hash');
    const cmd: MailboxCommand = {
      commandId: 'c1',
      userId: ALICE,
      issuedAt: 1,
      deliver: {
        messageKey: 'ingress-1:alice',
        mailbox: 'INBOX',
        flags: [],
        receivedAt: 5,
        size: 10,
        rawBlob: 'f'.repeat(64),
        skeletonBlob: 'f'.repeat(64),
        parts: [],
        messageId: null,
        inReplyTo: null,
        references: [],
        subject: 'Lunch',
        from: [{ name: 'Bob', address: 'bob@remote.test' }],
        to: [{ name: 'Alice', address: ALICE }],
        cc: [],
        date: null,
        headers: 'subject: Lunch\nfrom: Bob <bob@remote.test>',
        text: 'shall we meet at the harbour',
        attachmentNames: [],
      },
    };
    const [[out]] = await storeProcessor.create({}, resources).processBatch!([input(cmd)]);
    await indexProcessor.create({}, resources).process(input(out.value));
    const inbox = await resources.store.mailbox(ALICE, 'INBOX');
    expect(await resources.search.search({ userId: ALICE, mailboxId: inbox!.id, terms: [{ field: 'text', value: 'harbour' }] })).toEqual([
      { messageKey: 'ingress-1:alice', mailboxId: inbox!.id, uid: 1 },
    ]);
  });

  it('follows copies, moves, expunges and deleted mailboxes, and ends the same on replay', async () => {
    const stage = indexProcessor.create({}, resources);
    const body = async (mailboxId: number) => [...(await resources.search.matchUids(ALICE, mailboxId, { in: 'body', needle: 'plain body' }))].sort((a, b) => a - b);
    const base = { userId: ALICE, at: 1, delivered: null };
    const copied: MailboxEvent = {
      ...base,
      eventId: 'copy-1',
      copied: { fromMailboxId: 1, toMailboxId: 2, toMailbox: 'Archive', uidValidity: 1, moved: false, sourceUids: [1, 2], targetUids: [7, 8], copies: [{ fromKey: 'key-1', toKey: 'key-1c' }, { fromKey: 'key-2', toKey: 'key-2c' }], modseq: 3 },
    };
    const moved: MailboxEvent = {
      ...base,
      eventId: 'move-1',
      copied: { fromMailboxId: 1, toMailboxId: 3, toMailbox: 'Trash', uidValidity: 1, moved: true, sourceUids: [3], targetUids: [1], copies: [{ fromKey: 'key-3', toKey: 'key-3' }], modseq: 4 },
    };
    const flags: MailboxEvent = { ...base, eventId: 'flags-1', flagsChanged: { mailboxId: 1, mailbox: 'INBOX', modseq: 5, changed: [], conflicts: [] } };
    const expunged: MailboxEvent = { ...base, eventId: 'exp-1', expunged: { mailboxId: 1, mailbox: 'INBOX', uids: [1], messageKeys: ['key-1'], modseq: 6 } };
    const deleted: MailboxEvent = {
      ...base,
      eventId: 'del-1',
      mailboxChanged: { change: 'deleted', mailboxId: 2, name: 'Archive', oldName: null, removedKeys: ['key-2c'] },
    };
    const failed: MailboxEvent = { ...base, eventId: 'fail-1', failed: { code: 'NONEXISTENT', message: 'no' } };
    const records = [event(1), event(2), event(3), copied, moved, flags, expunged, deleted, failed, event(4)].map((e, i) => input(e, i));
    for (const run of [1, 2]) {
      expect(await stage.processBatch!(records), `run ${run}`).toEqual(records.map(() => []));
      expect(await body(1)).toEqual([2, 4]);
      expect(await body(2)).toEqual([7]);
      expect(await body(3)).toEqual([1]);
      expect([...(await resources.search.indexedUids(ALICE, 2))]).toEqual([7]);
      expect(await keys('body', 'plain')).toEqual(['key-2', 'key-4', 'key-1c', 'key-3']);
    }
    // One record at a time gives the same index.
    for (const record of records) await stage.process(record);
    expect(await body(1)).toEqual([2, 4]);
    expect(await body(3)).toEqual([1]);
  });

  it('indexes the header block, so IMAP header keys find the delivery', async () => {
    const stage = indexProcessor.create({}, resources);
    await stage.process(input(event(1, { headers: 'subject: Grüße\nx-mailer: Sluice Test' })));
    await stage.process(input(event(2, { headers: '' }), 1));
    expect([...(await resources.search.matchUids(ALICE, 1, { in: 'header', field: 'X-Mailer', needle: 'sluice t' }))]).toEqual([1]);
    expect([...(await resources.search.matchUids(ALICE, 1, { in: 'header', field: 'subject', needle: 'GRÜ' }))]).toEqual([1]);
    expect([...(await resources.search.indexedUids(ALICE, 1))]).toEqual([1]);
  });

  it('renders addresses as "Name <address>" joined by ", "', () => {
    expect(
      renderAddresses([
        { name: 'Bob', address: 'bob@x.test' },
        { name: '', address: 'eve@y.test' },
      ]),
    ).toBe('Bob <bob@x.test>, eve@y.test');
  });
});
