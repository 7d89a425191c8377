import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchKey, SequenceSet } from '../command.ts';
import type { Mailbox } from '../../../connectors/store/store.ts';
import type { MailboxService } from '../../mailbox-service.ts';
import type { MailboxCommand } from '../../../schemas/types.ts';
import { openTestResources, type TestResources } from '../../../processors/test-resources.ts';
import { bodyText, headerValues } from '../mime/search-text.ts';
import { decodeWords, parseHeaderBlock, findHeaderEnd } from '../mime/headers.ts';
import { searchMailbox } from './evaluate.ts';
import { FIRST_RECEIVED, FLAG_CHOICES, VOCABULARY, generateMessage, pipeline, prng, readOnlyService } from './test-mailbox.ts';

const ALICE = 'alice@example.test';
const DAY = 86_400_000;

// ——— The brute force: every message's bytes, RFC 9051 §6.4.4 applied directly. ———

interface Facts {
  readonly uid: number;
  readonly modseq: number;
  readonly flags: Set<string>;
  readonly size: number;
  readonly receivedAt: number;
  /** Decoded header fields: lowercase name, value. */
  readonly headers: { name: string; value: string }[];
  readonly body: string;
  readonly attachmentNames: string;
}

/** Case-insensitive comparison: Unicode lowercase, both sigmas alike (Unicode case folding). */
const fold = (s: string): string => s.toLowerCase().replace(/ς/g, 'σ');
const has = (hay: string, needle: string): boolean => fold(hay).includes(fold(needle));

async function factsOf(service: MailboxService, mailbox: Mailbox): Promise<Map<number, Facts>> {
  const out = new Map<number, Facts>();
  const summaries = await service.store.summaries(mailbox.id);
  const messages = await service.store.messagesByUid(mailbox.id, summaries.map((s) => s.uid));
  for (const [i, m] of messages.entries()) {
    const raw = await service.messageBytes(m);
    const fields = parseHeaderBlock(raw, 0, findHeaderEnd(raw, 0, raw.length));
    const names = [...raw.toString('latin1').matchAll(/filename="([^"]+)"/g)].map((x) => Buffer.from(x[1], 'latin1').toString('utf8'));
    out.set(m.uid, {
      uid: m.uid,
      modseq: summaries[i].modseq,
      flags: new Set(summaries[i].flags.map((f) => f.toLowerCase())),
      size: raw.length,
      receivedAt: m.receivedAt,
      headers: fields.map((f) => ({ name: f.name.toLowerCase(), value: decodeWords(f.value) })),
      body: bodyText(raw),
      attachmentNames: names.join(' '),
    });
    expect(headerValues(raw, 'message-id')).toHaveLength(1);
  }
  return out;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The day of the Date: field as written, "disregarding time and timezone". */
function sentDayOf(f: Facts): number | null {
  const value = f.headers.find((h) => h.name === 'date')?.value;
  const m = value ? /(\d{1,2}) (\w{3}) (\d{4})/.exec(value) : null;
  return m ? Date.UTC(Number(m[3]), MONTHS.indexOf(m[2].toLowerCase()), Number(m[1])) / DAY : null;
}

function inSet(n: number, set: SequenceSet, star: number, saved: readonly number[], uid: number): boolean {
  if (set.kind === 'saved') return saved.includes(uid);
  return set.ranges.some((r) => {
    const a = r.start === '*' ? star : r.start;
    const b = r.end === '*' ? star : r.end;
    return n >= Math.min(a, b) && n <= Math.max(a, b);
  });
}

function bruteForce(key: SearchKey, f: Facts, seq: number, session: readonly number[], saved: readonly number[]): boolean {
  const recurse = (k: SearchKey) => bruteForce(k, f, seq, session, saved);
  switch (key.kind) {
    case 'all':
      return true;
    case 'flag':
      return f.flags.has(key.flag.toLowerCase()) === key.set;
    case 'header': {
      if (/[\r\n]/.test(key.value)) return false;
      const values = f.headers.filter((h) => h.name === key.field.toLowerCase());
      return key.value === '' ? values.length > 0 : values.some((h) => has(h.value, key.value));
    }
    case 'body':
      return has(f.body, key.value) || has(f.attachmentNames, key.value);
    case 'text':
      return has(f.body, key.value) || has(f.attachmentNames, key.value) || f.headers.some((h) => has(`${h.name}: ${h.value}`, key.value));
    case 'date': {
      const day = key.which === 'internal' ? Math.floor(f.receivedAt / DAY) : sentDayOf(f);
      const target = Date.parse(`${key.date}T00:00:00Z`) / DAY;
      if (day === null) return false;
      return key.op === 'before' ? day < target : key.op === 'on' ? day === target : day >= target;
    }
    case 'size':
      return key.op === 'larger' ? f.size > key.size : f.size < key.size;
    case 'uid':
      return inSet(f.uid, key.set, session[session.length - 1], saved, f.uid);
    case 'seq':
      return inSet(seq, key.set, session.length, saved, f.uid);
    case 'modseq':
      return f.modseq >= key.modseq;
    case 'not':
      return !recurse(key.key);
    case 'or':
      return recurse(key.left) || recurse(key.right);
    case 'and':
      return key.keys.every(recurse);
  }
}

function expected(facts: Map<number, Facts>, key: SearchKey, session: readonly number[], saved: readonly number[]): number[] {
  return session.flatMap((uid, i) => {
    const f = facts.get(uid);
    return f && bruteForce(key, f, i + 1, session, saved) ? [uid] : [];
  });
}

// ——— Search keys ———

const needle = fc.oneof(
  fc.constantFrom(...VOCABULARY).chain((w) =>
    fc.tuple(fc.nat(w.length), fc.nat(w.length), fc.boolean()).map(([a, b, upper]) => {
      const part = [...w].slice(Math.min(a, b), Math.max(a, b) + 1).join('');
      return upper ? part.toUpperCase() : part;
    }),
  ),
  fc.constantFrom('', 'e', 'ab', 'ß', 'é', 'quick brown', 'bob@', 'example.org', 'Müller', 'zoë', 'report-', '.pdf', 'zzqx', '"', '*', 'a"b', 'AND', ': ', 'subject: ', 'generator 3', 'Ω', 'σοφια', 'ΣΟΦΊΑ', 'οδοσ', 'Σ', '東'),
);
const field = fc.constantFrom('From', 'TO', 'cc', 'Bcc', 'Subject', 'X-Custom', 'x-mailer', 'Date', 'Message-ID', 'X-Missing', 'MIME-Version', 'content-type');
const day = fc.integer({ min: -3, max: 75 }).map((d) => new Date(FIRST_RECEIVED + d * DAY).toISOString().slice(0, 10));
const seqNumber = fc.oneof(fc.integer({ min: 1, max: 340 }), fc.constant('*' as const));
const sequenceSet: fc.Arbitrary<SequenceSet> = fc.oneof(
  { weight: 5, arbitrary: fc.array(fc.tuple(seqNumber, seqNumber).map(([start, end]) => ({ start, end })), { minLength: 1, maxLength: 3 }).map((ranges) => ({ kind: 'set' as const, ranges })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'saved' as const }) },
);
const leaf: fc.Arbitrary<SearchKey> = fc.oneof(
  fc.constant({ kind: 'all' as const }),
  fc.record({ kind: fc.constant('flag' as const), flag: fc.constantFrom(...FLAG_CHOICES, '\\seen', '$work', '\\Deleted', '\\Recent', 'Nonexistent'), set: fc.boolean() }),
  fc.record({ kind: fc.constant('header' as const), field, value: needle }),
  fc.record({ kind: fc.constantFrom('text' as const, 'body' as const), value: needle }),
  fc.record({ kind: fc.constant('date' as const), which: fc.constantFrom('internal' as const, 'sent' as const), op: fc.constantFrom('before' as const, 'on' as const, 'since' as const), date: day }),
  fc.record({ kind: fc.constant('size' as const), op: fc.constantFrom('larger' as const, 'smaller' as const), size: fc.oneof(fc.integer({ min: 0, max: 12_000 }), fc.constant(100_000)) }),
  fc.record({ kind: fc.constantFrom('uid' as const, 'seq' as const), set: sequenceSet }),
  fc.record({ kind: fc.constant('modseq' as const), modseq: fc.integer({ min: 1, max: 400 }) }),
);
const searchKey: fc.Arbitrary<SearchKey> = fc.letrec<{ key: SearchKey }>((tie) => ({
  key: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ kind: fc.constant('not' as const), key: tie('key') }),
    fc.record({ kind: fc.constant('or' as const), left: tie('key'), right: tie('key') }),
    fc.record({ kind: fc.constant('and' as const), keys: fc.array(tie('key'), { minLength: 1, maxLength: 3 }) }),
  ),
})).key;

const HANDPICKED: SearchKey[] = [
  { kind: 'all' },
  { kind: 'text', value: 'walrus' },
  { kind: 'text', value: 'WALRUS' },
  { kind: 'body', value: 'quick brown' },
  { kind: 'body', value: 'Résumé-' },
  { kind: 'text', value: 'subject: ' },
  { kind: 'text', value: 'x-custom' },
  { kind: 'header', field: 'Subject', value: '' },
  { kind: 'header', field: 'Cc', value: '' },
  { kind: 'header', field: 'From', value: 'zoë müller' },
  { kind: 'header', field: 'from', value: 'ZOE@' },
  { kind: 'header', field: 'to', value: 'Ωmar' },
  { kind: 'header', field: 'bcc', value: 'carol' },
  { kind: 'header', field: 'subject', value: 'ΣΟΦΙΑ' },
  { kind: 'header', field: 'x-mailer', value: 'generator 3' },
  { kind: 'header', field: 'x-custom', value: 'a' },
  { kind: 'header', field: 'date', value: '-0500' },
  { kind: 'body', value: 'ß' },
  { kind: 'text', value: 'line\r\nbreak' },
  { kind: 'flag', flag: '\\Seen', set: false },
  { kind: 'and', keys: [{ kind: 'flag', flag: '\\Flagged', set: true }, { kind: 'text', value: 'budget' }] },
  { kind: 'or', left: { kind: 'size', op: 'larger', size: 100_000 }, right: { kind: 'body', value: 'straße' } },
  { kind: 'not', key: { kind: 'or', left: { kind: 'text', value: 'alpha' }, right: { kind: 'header', field: 'subject', value: 'report' } } },
  { kind: 'date', which: 'sent', op: 'on', date: '2025-01-10' },
  { kind: 'date', which: 'sent', op: 'before', date: '2025-01-10' },
  { kind: 'date', which: 'internal', op: 'since', date: '2025-02-01' },
  { kind: 'seq', set: { kind: 'set', ranges: [{ start: 5, end: 1 }, { start: '*', end: '*' }] } },
  { kind: 'uid', set: { kind: 'set', ranges: [{ start: 100, end: '*' }] } },
  { kind: 'uid', set: { kind: 'saved' } },
  { kind: 'modseq', modseq: 250 },
  { kind: 'and', keys: [{ kind: 'uid', set: { kind: 'set', ranges: [{ start: 1, end: 1 }] } }, { kind: 'flag', flag: '\\Seen', set: true }, { kind: 'text', value: 'x' }] },
];

// ——— The mailbox ———

describe('searchMailbox against a brute-force scan', () => {
  let res: TestResources;
  let service: MailboxService;
  let inbox: Mailbox;
  let archive: Mailbox;
  let inboxUids: number[];
  let archiveUids: number[];
  let inboxFacts: Map<number, Facts>;
  let archiveFacts: Map<number, Facts>;
  let saved: number[];
  const unindexed = new Set<number>();

  beforeAll(async () => {
    res = openTestResources();
    service = readOnlyService(res);
    await res.store.addDomain('example.test');
    await res.store.addUser(ALICE, 'hash');
    const random = prng(20260301);
    const stages = pipeline(res, ALICE);
    const messages = Array.from({ length: 300 }, (_, i) => generateMessage(i, random));
    const delivered = await stages.store(await stages.commands(messages));
    await stages.index(delivered.slice(0, 280)); // the last 20 are stored but not indexed yet
    inbox = (await res.store.mailbox(ALICE, 'INBOX'))!;
    const uids = delivered.map((e) => e.delivered!.uid);
    for (const e of delivered.slice(280)) unindexed.add(e.delivered!.uid);

    // Client changes through the store stage, their events through the index stage.
    const command = (n: number, body: Partial<MailboxCommand>) => ({ commandId: `c${n}`, userId: ALICE, issuedAt: 1, deliver: null, ...body });
    const changes = [
      command(1, { setFlags: { mailboxId: inbox.id, uids: uids.filter((_, i) => i % 3 === 0), mode: 'add', flags: ['\\Seen', 'Later'], unchangedSince: null } }),
      command(2, { setFlags: { mailboxId: inbox.id, uids: uids.filter((_, i) => i % 7 === 0), mode: 'remove', flags: ['\\Flagged'], unchangedSince: null } }),
      command(3, { copy: { fromMailboxId: inbox.id, uids: uids.filter((_, i) => i % 10 === 1), toMailbox: 'Archive', move: false } }),
      command(4, { copy: { fromMailboxId: inbox.id, uids: uids.filter((_, i) => i % 25 === 2), toMailbox: 'Archive', move: true } }),
      command(5, { setFlags: { mailboxId: inbox.id, uids: uids.filter((_, i) => i % 50 === 4), mode: 'add', flags: ['\\Deleted'], unchangedSince: null } }),
      command(6, { expunge: { mailboxId: inbox.id, uids: uids.filter((_, i) => i % 50 === 4), onlyDeleted: true } }),
      command(7, { copy: { fromMailboxId: inbox.id, uids: uids.slice(285, 290), toMailbox: 'Archive', move: false } }), // copies of unindexed mail
    ];
    const events = await stages.store(changes);
    expect(events.map((e) => e.failed ?? null)).toEqual(changes.map(() => null));
    await stages.index(events);

    inbox = (await res.store.mailbox(ALICE, 'INBOX'))!;
    archive = (await res.store.mailbox(ALICE, 'Archive'))!;
    // The session still shows one expunged message: it must never match.
    inboxUids = [...new Set([...(await res.store.summaries(inbox.id)).map((s) => s.uid), uids[4]])].sort((a, b) => a - b);
    archiveUids = (await res.store.summaries(archive.id)).map((s) => s.uid);
    inboxFacts = await factsOf(service, inbox);
    archiveFacts = await factsOf(service, archive);
    saved = inboxUids.filter((_, i) => i % 4 === 1);
  }, 60_000);
  afterAll(async () => {
    await res.close();
  });

  const run = (key: SearchKey, mailbox = inbox, uids = inboxUids) => searchMailbox({ service, userId: ALICE, mailbox, uids, savedSearch: saved, key });

  it('has a mailbox that exercises both paths: indexed and not yet indexed messages, copies and moves', async () => {
    const indexed = await res.search.indexedUids(ALICE, inbox.id);
    expect(indexed.size).toBeGreaterThan(250);
    for (const uid of unindexed) expect(indexed.has(uid)).toBe(false);
    const archived = await res.search.indexedUids(ALICE, archive.id);
    expect(archived.size).toBeGreaterThan(30);
    expect(archived.size).toBeLessThan(archiveUids.length); // the copies of unindexed mail
    expect(inboxFacts.size).toBe(inboxUids.length - 1);
    expect([...inboxFacts.values()].some((f) => f.size > 200_000)).toBe(true);
  });

  it('answers every handpicked key as the brute force does', async () => {
    for (const key of HANDPICKED) {
      expect(await run(key), JSON.stringify(key)).toEqual(expected(inboxFacts, key, inboxUids, saved));
    }
    const hits = HANDPICKED.map((key) => expected(inboxFacts, key, inboxUids, saved).length);
    expect(hits.filter((n) => n > 0 && n < inboxFacts.size).length).toBeGreaterThan(HANDPICKED.length / 2);
  });

  it('answers generated keys as the brute force does (INBOX)', async () => {
    await fc.assert(
      fc.asyncProperty(searchKey, async (key) => {
        expect(await run(key)).toEqual(expected(inboxFacts, key, inboxUids, saved));
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it('answers generated keys as the brute force does (Archive: copies and moves)', async () => {
    await fc.assert(
      fc.asyncProperty(searchKey, async (key) => {
        expect(await run(key, archive, archiveUids)).toEqual(expected(archiveFacts, key, archiveUids, saved));
      }),
      { numRuns: 80, seed: 11 },
    );
  });

  it('finds not-yet-indexed messages by reading them', async () => {
    const uid = [...unindexed][3];
    const messageId = inboxFacts.get(uid)!.headers.find((h) => h.name === 'message-id')!.value;
    expect(await run({ kind: 'header', field: 'Message-ID', value: messageId })).toEqual([uid]);
    expect(await run({ kind: 'text', value: messageId.slice(1, -1) })).toEqual([uid]);
  });

  it('returns nothing for an empty session or a session of expunged messages', async () => {
    expect(await run({ kind: 'all' }, inbox, [])).toEqual([]);
    expect(await run({ kind: 'not', key: { kind: 'text', value: 'zzqx' } }, inbox, [inboxUids.find((uid) => !inboxFacts.has(uid))!])).toEqual([]);
  });
});

describe('searchMailbox between changes', () => {
  /** Fresh resources with Alice's INBOX holding `count` generated messages, stored and indexed. */
  async function aliceWith(count: number, seed: number) {
    const res = openTestResources();
    try {
      await res.store.addDomain('example.test');
      await res.store.addUser(ALICE, 'hash');
      const stages = pipeline(res, ALICE);
      const random = prng(seed);
      await stages.index(await stages.store(await stages.commands(Array.from({ length: count }, (_, i) => ({ ...generateMessage(i, random), flags: [] })))));
      return { res, service: readOnlyService(res), stages, random };
    } catch (err) {
      await res.close();
      throw err;
    }
  }

  /** Alice's INBOX as a session keeps it: its UID list (one array, kept and appended to), and a search matching every message. */
  async function inboxSession({ res, service }: Awaited<ReturnType<typeof aliceWith>>, uids: number[]) {
    const mailbox = (await res.store.mailbox(ALICE, 'INBOX'))!;
    const everyMessage = { kind: 'text' as const, value: 'message-id: <gen-' };
    return { mailbox, search: () => searchMailbox({ service, userId: ALICE, mailbox, uids, savedSearch: [], key: everyMessage }) };
  }

  it('sees flag changes, expunges and new mail at once (the summary cache follows the mailbox state)', async () => {
    const { res, service, stages, random } = await aliceWith(4, 5);
    try {
      const box = async () => (await res.store.mailbox(ALICE, 'INBOX'))!;
      const unseen = async () => {
        const mailbox = await box();
        const uids = (await res.store.summaries(mailbox.id)).map((s) => s.uid);
        return searchMailbox({ service, userId: ALICE, mailbox, uids, savedSearch: [], key: { kind: 'flag', flag: '\\Seen', set: false } });
      };
      const id = (await box()).id;
      expect(await unseen()).toEqual([1, 2, 3, 4]);
      await stages.store([{ commandId: 'f', userId: ALICE, issuedAt: 1, deliver: null, setFlags: { mailboxId: id, uids: [2], mode: 'add', flags: ['\\Seen'], unchangedSince: null } }]);
      expect(await unseen()).toEqual([1, 3, 4]);
      await stages.store([{ commandId: 'e', userId: ALICE, issuedAt: 1, deliver: null, expunge: { mailboxId: id, uids: [3], onlyDeleted: false } }]);
      expect(await unseen()).toEqual([1, 4]);
      await stages.store(await stages.commands([{ ...generateMessage(9, random), flags: [] }]));
      expect(await unseen()).toEqual([1, 4, 5]);
      const moved = await stages.store([{ commandId: 'm', userId: ALICE, issuedAt: 1, deliver: null, copy: { fromMailboxId: id, uids: [1], toMailbox: 'Archive', move: true } }]);
      expect(await unseen()).toEqual([4, 5]);
      // The moved message is found in its new mailbox by reading it, then through the index.
      const archive = (await res.store.mailbox(ALICE, 'Archive'))!;
      const everything = { kind: 'text' as const, value: 'message-id: <gen-0@' };
      const inArchive = () => searchMailbox({ service, userId: ALICE, mailbox: archive, uids: [1], savedSearch: [], key: everything });
      expect(await inArchive()).toEqual([1]);
      await stages.index(moved);
      expect(await res.search.indexedUids(ALICE, archive.id)).toEqual(new Set([1]));
      expect(await inArchive()).toEqual([1]);
    } finally {
      await res.close();
    }
  });

  it('a UID list kept between searches, appended to as a session does: new mail (indexed or not yet) and expunges are seen', async () => {
    const alice = await aliceWith(3, 11);
    const { res, stages, random } = alice;
    try {
      const uids = [1, 2, 3]; // the session's list: the same array from search to search
      const { mailbox, search } = await inboxSession(alice, uids);
      expect(await search()).toEqual([1, 2, 3]);
      expect(await search()).toEqual([1, 2, 3]);
      const fresh = await stages.store(await stages.commands([{ ...generateMessage(7, random), flags: [] }]));
      uids.push(4);
      expect(await search()).toEqual([1, 2, 3, 4]); // read from the message: not indexed yet
      await stages.index(fresh);
      expect(await search()).toEqual([1, 2, 3, 4]);
      await stages.store([{ commandId: 'x', userId: ALICE, issuedAt: 1, deliver: null, expunge: { mailboxId: mailbox.id, uids: [2], onlyDeleted: false } }]);
      expect(await search()).toEqual([1, 3, 4]); // still in the list until the session announces it
    } finally {
      await res.close();
    }
  });

  it('an indexed message the session has not announced yet is not in its result, however often it searches', async () => {
    const alice = await aliceWith(3, 13);
    const { res, stages, random } = alice;
    try {
      const uids = [1, 2, 3];
      const { mailbox, search } = await inboxSession(alice, uids);
      expect(await search()).toEqual([1, 2, 3]);
      await stages.index(await stages.store(await stages.commands([{ ...generateMessage(8, random), flags: [] }])));
      expect(await res.search.indexedUids(ALICE, mailbox.id)).toEqual(new Set([1, 2, 3, 4]));
      // The first search after the change checks the universe against the index; the next ones know it is covered.
      for (let i = 0; i < 3; i++) expect(await search()).toEqual([1, 2, 3]);
      uids.push(4);
      expect(await search()).toEqual([1, 2, 3, 4]);
      expect(await search()).toEqual([1, 2, 3, 4]);
    } finally {
      await res.close();
    }
  });
});

