/**
 * The Bayes loop through the real stages: parse → split-attachments → store delivers; the store
 * stage applies IMAP-style moves into and out of Junk; spam-learn trains the user's model from
 * the store's `copied` events; then the spam stage junks a new message like the trained spam.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProcessor } from './parse.ts';
import { splitAttachmentsProcessor } from './split-attachments.ts';
import { storeProcessor } from './store.ts';
import { spamLearnProcessor } from './spam-learn.ts';
import { spamProcessor } from './spam.ts';
import type { MailboxCommand, MailboxEvent, ParsedMail } from '../schemas/types.ts';
import { inputRecord, openTestResources, receivedFor, type TestResources } from './test-resources.ts';
import { SqliteBayesStore } from '../connectors/scan/sqlite-bayes.ts';
import { MIN_DOCS, spamProbability, tokenize } from '../connectors/scan/bayes.ts';
import { DEFAULT_SPAM_POLICY, type ScanResources } from '../connectors/scan/resources.ts';
import { dnsResolver } from '../ops/scan.ts';
import { startDns, type RunningDns } from '../test/harness/dns.ts';

const USER = 'bob@example.test';
let res: TestResources;
let bayes: SqliteBayesStore;
let dns: RunningDns;
let scan: ScanResources;
beforeAll(async () => {
  res = openTestResources();
  await res.store.addDomain('example.test');
  await res.store.addUser(USER, 'x');
  bayes = new SqliteBayesStore({ path: path.join(res.dir, 'bayes.db') });
  dns = await startDns({});
  scan = { virus: null, spam: null, quarantine: null, bayes, resolver: dnsResolver([dns.address]), hostname: 'mx.sluice.test', spamPolicy: DEFAULT_SPAM_POLICY };
});
afterAll(async () => {
  await bayes?.close();
  await dns?.close();
  await res?.close();
});

const SPAM_WORDS = ['replica', 'watches', 'discount', 'rolex', 'cheap', 'offer', 'limited', 'luxury', 'bargain', 'order', 'shipping', 'guaranteed'];
const HAM_WORDS = ['meeting', 'agenda', 'project', 'review', 'schedule', 'minutes', 'quarterly', 'budget', 'roadmap', 'team', 'notes', 'deadline'];
const pick = (words: readonly string[], i: number, n: number): string => Array.from({ length: n }, (_, k) => words[(i * 5 + k * 7) % words.length]).join(' ');

function raw(i: number, spam: boolean): Buffer {
  const words = spam ? SPAM_WORDS : HAM_WORDS;
  const from = spam ? `deals${i}@shop-${i}.example` : 'carol@work.example';
  return Buffer.from(
    `From: ${from}\r\nTo: ${USER}\r\nSubject: ${pick(words, i, 3)}\r\nMessage-ID: <${spam ? 's' : 'h'}${i}@x>\r\nDate: Sat, 05 Dec 2026 14:00:00 +0000\r\n\r\n${pick(words, i + 1, 12)}. ${pick(words, i + 2, 9)}.\r\n`,
  );
}

async function parsedOf(bytes: Buffer, ingressId: string, mailbox = 'INBOX'): Promise<ParsedMail> {
  const rawBlob = await res.blobs.put(bytes);
  const received = { ...receivedFor(rawBlob, bytes.length, ingressId, USER), mailbox };
  const [p] = await parseProcessor.create({ maxTextBytes: 1 << 20 }, res).process(inputRecord('mail.received', USER, received));
  return p.value as ParsedMail;
}

let offset = 0;
async function applyCommand(command: MailboxCommand): Promise<MailboxEvent> {
  const [out] = await storeProcessor.create({}, res).process(inputRecord('mailbox.commands', USER, command, offset++));
  return out.value;
}

async function deliver(bytes: Buffer, ingressId: string, mailbox: string): Promise<number> {
  const split = splitAttachmentsProcessor.create(splitAttachmentsProcessor.spec.config.parse({}), res);
  const [cmd] = await split.process(inputRecord('mail.scanned', USER, await parsedOf(bytes, ingressId, mailbox)));
  return (await applyCommand(cmd.value)).delivered!.uid;
}

async function move(fromMailbox: string, uids: number[], toMailbox: string, id: string): Promise<MailboxEvent> {
  const from = (await res.store.mailbox(USER, fromMailbox))!;
  return applyCommand({ commandId: id, userId: USER, issuedAt: 1, deliver: null, copy: { fromMailboxId: from.id, uids, toMailbox, move: true } });
}

async function learn(event: MailboxEvent): Promise<void> {
  expect(await spamLearnProcessor.create({}, { ...res, scan }).process(inputRecord('mailbox.events', USER, event))).toEqual([]);
}

describe('spam-learn and the Bayes verdict', () => {
  it('says nothing until trained, then junks a message like the ten the user moved to Junk', async () => {
    const fresh = await parsedOf(raw(100, true), 'probe-0');
    const tokens = tokenize(fresh.subject, fresh.text, fresh.from.map((a) => a.address));
    expect(spamProbability(await bayes.counts(USER, tokens), tokens)).toBeNull();

    // Ten spam messages arrive in INBOX; the user moves them to Junk (IMAP MOVE).
    const spamUids: number[] = [];
    for (let i = 0; i < 10; i++) spamUids.push(await deliver(raw(i, true), `spam-${i}`, 'INBOX'));
    const moved = await move('INBOX', spamUids, 'Junk', 'move-to-junk');
    expect(moved.copied?.copies).toHaveLength(10);
    await learn(moved);
    await learn(moved); // a replay learns nothing twice
    // Five good messages had landed in Junk; the user moves them back to INBOX.
    const hamUids: number[] = [];
    for (let i = 0; i < MIN_DOCS; i++) hamUids.push(await deliver(raw(i, false), `ham-${i}`, 'Junk'));
    const junkBox = (await res.store.mailbox(USER, 'Junk'))!;
    const junkMessages = await res.store.messagesByUid(junkBox.id, hamUids.map((u) => u));
    expect(junkMessages).toHaveLength(MIN_DOCS);
    await learn(await move('Junk', junkMessages.map((m) => m.uid), 'INBOX', 'rescue'));

    const counts = await bayes.counts(USER, tokens);
    expect([counts.spamDocs, counts.hamDocs]).toEqual([10, MIN_DOCS]);

    const stage = spamProcessor.create({}, { ...res, scan });
    const [spamOut] = await stage.process(inputRecord('mail.parsed', USER, await parsedOf(raw(42, true), 'new-spam')));
    expect(spamOut.value.received.mailbox).toBe('Junk');
    expect(spamOut.value.received.flags).toContain('$Junk');
    expect(spamOut.value.headers).toMatch(/^X-Spam-Status: Yes, .*BAYES_99=7/m);

    const [hamOut] = await stage.process(inputRecord('mail.parsed', USER, await parsedOf(raw(43, false), 'new-ham')));
    expect(hamOut.value.received.mailbox).toBe('INBOX');
    expect(hamOut.value.headers).toMatch(/^X-Spam-Status: No, .*BAYES_00=-3/m);
  });

  it('a message moved back out of Junk moves its tokens from spam to ham', async () => {
    const tokens = ['x1', 'x2'];
    expect(await bayes.learn('u2', 'doc', tokens, true)).toBe(true);
    expect(await bayes.learn('u2', 'doc', tokens, true)).toBe(false);
    expect(await bayes.learn('u2', 'doc', tokens, false)).toBe(true);
    const c = await bayes.counts('u2', tokens);
    expect([c.spamDocs, c.hamDocs, c.tokens.get('x1')]).toEqual([0, 1, { spam: 0, ham: 1 }]);
  });
});
