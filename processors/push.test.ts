import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InProcessPushBus } from '../connectors/push/push.ts';
import type { MailboxEvent } from '../schemas/types.ts';
import type { InputRecord } from './processor.ts';
import { openTestResources, type TestResources } from './test-resources.ts';
import { pushProcessor } from './push.ts';

const ALICE = 'alice@example.test';

const event: MailboxEvent = {
  eventId: 'deliver:key-1',
  userId: ALICE,
  at: 1,
  delivered: {
    messageKey: 'key-1',
    mailboxId: 1,
    mailbox: 'INBOX',
    uid: 1,
    modseq: 1,
    threadId: 't1',
    receivedAt: 1,
    size: 1,
    subject: 'hello',
    from: [],
    to: [],
    cc: [],
    headers: '',
    text: '',
    attachmentNames: [],
  },
};

const input = (value: MailboxEvent): InputRecord<MailboxEvent> => ({
  topic: 'mailbox.events',
  partition: 0,
  offset: 0,
  key: value.userId,
  value,
  headers: {},
  timestamp: 0,
});

describe('push stage', () => {
  let bus: InProcessPushBus;
  let resources: TestResources;

  beforeEach(() => {
    resources = openTestResources();
    bus = resources.push as InProcessPushBus;
  });
  afterEach(async () => {
    await resources.close();
  });

  it('is a sink named push reading MailboxEvent', () => {
    expect(pushProcessor.name).toBe('push');
    expect(pushProcessor.spec).toMatchObject({ input: 'MailboxEvent', output: null });
  });

  it('publishes each event to the user’s subscribers only, and outputs nothing', async () => {
    const forAlice: MailboxEvent[] = [];
    const forBob: MailboxEvent[] = [];
    const everyone: MailboxEvent[] = [];
    bus.subscribe(ALICE, (e) => forAlice.push(e));
    bus.subscribe('bob@example.test', (e) => forBob.push(e));
    bus.subscribeAll((e) => everyone.push(e));
    const stage = pushProcessor.create({}, resources);
    expect(await stage.process(input(event))).toEqual([]);
    expect(forAlice).toEqual([event]);
    expect(forBob).toEqual([]);
    expect(everyone).toEqual([event]);
  });
});
