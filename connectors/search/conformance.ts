/**
 * The contract every `SearchIndex` implementation passes (embedded SQLite FTS5, OpenSearch):
 * run it from the implementation's test file with `runSearchIndexConformance('name', factory)`.
 *
 * Semantics: words are matched case-insensitively with diacritics folded; the last word of a
 * value also matches as a prefix (IMAP SEARCH is substring-based, RFC 9051 §6.4.4); a value
 * of several words is a phrase; terms are AND-ed; user input is never query syntax. Users and
 * keys are unique per test so a shared cluster can be used. An implementation that is only
 * near-real-time must make `index()` visible to `search()` before it resolves (refresh).
 *
 * IMAP SEARCH (`matchUids`, `indexedUids`, `fieldValues`, `relocate`, `copy`): every answer
 * must equal the reference semantics of substring.ts (`matchesFields`) document by document.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SearchDocument, SearchField, SearchIndex } from './search.ts';
import { matchesFields, searchFields, type SubstringMatch } from './substring.ts';

export interface SearchIndexUnderTest {
  readonly index: SearchIndex;
  /** Opens a new `SearchIndex` over the same storage (the test has closed `index` first). */
  readonly reopen: () => Promise<SearchIndex>;
  /** Closes every index the factory opened (close is idempotent) and removes the storage. */
  readonly cleanup: () => Promise<void>;
}

export function runSearchIndexConformance(name: string, newIndex: () => Promise<SearchIndexUnderTest>): void {
  describe(`SearchIndex conformance: ${name}`, () => {
    let subject: SearchIndexUnderTest;
    let index: SearchIndex;
    let run: string;
    let alice: string;
    let bob: string;

    function doc(n: number, over: Partial<SearchDocument> = {}): SearchDocument {
      return {
        messageKey: `${run}:${n}`,
        userId: alice,
        mailboxId: 1,
        uid: n,
        receivedAt: 1_700_000_000_000 + n,
        from: '',
        to: '',
        cc: '',
        subject: '',
        body: '',
        attachments: '',
        ...over,
      };
    }
    const key = (n: number) => `${run}:${n}`;
    /** Keys of alice's hits for one term. */
    async function find(field: SearchField, value: string, userId = alice): Promise<string[]> {
      return (await index.search({ userId, terms: [{ field, value }] })).map((h) => h.messageKey);
    }

    beforeEach(async () => {
      subject = await newIndex();
      index = subject.index;
      run = randomBytes(5).toString('hex');
      alice = `alice-${run}@example.test`;
      bob = `bob-${run}@example.test`;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('health() answers ok with its kind and latency, and not ok once closed', async () => {
      const up = await index.health();
      expect(up).toMatchObject({ ok: true });
      expect(up.kind).toMatch(/^[a-z0-9]+$/);
      expect(up.latencyMs).toBeGreaterThanOrEqual(0);
      await index.close();
      const down = await index.health();
      expect(down).toMatchObject({ ok: false, kind: up.kind });
      expect(down.error).toBeTruthy();
    });

    it('finds a message by each field, and only in that field', async () => {
      await index.index([
        doc(1, {
          from: 'Harriet Sender <harriet@origin.test>',
          to: 'Quentin <quentin@dest.test>',
          cc: 'Ophelia <ophelia@copy.test>',
          subject: 'Zeppelin schedule',
          body: 'the walrus arrives tomorrow',
          attachments: 'blueprint.pdf manifest.xlsx',
        }),
        doc(2, { subject: 'nothing', body: 'nothing at all' }),
      ]);
      const cases: [SearchField, string][] = [
        ['from', 'harriet'],
        ['from', 'harriet@origin.test'],
        ['to', 'quentin'],
        ['cc', 'ophelia'],
        ['subject', 'zeppelin'],
        ['body', 'walrus'],
        ['attachments', 'blueprint'],
        ['attachments', 'manifest.xlsx'],
      ];
      for (const [field, value] of cases) expect(await find(field, value), `${field}: ${value}`).toEqual([key(1)]);
      expect(await find('subject', 'walrus')).toEqual([]);
      expect(await find('body', 'zeppelin')).toEqual([]);
      expect(await find('to', 'harriet')).toEqual([]);
      for (const value of ['harriet', 'quentin', 'ophelia', 'zeppelin', 'walrus', 'blueprint']) {
        expect(await find('text', value), `text: ${value}`).toEqual([key(1)]);
      }
    });

    it('matches case-insensitively, folds diacritics and matches word prefixes', async () => {
      await index.index([doc(1, { body: 'Café Grüße Привет INVOICE Zoë' })]);
      for (const value of ['cafe', 'CAFÉ', 'grüße', 'привет', 'invoice', 'invo', 'zoe']) {
        expect(await find('body', value), value).toEqual([key(1)]);
      }
      expect(await find('body', 'voice')).toEqual([]);
    });

    it('matches a multi-word value as a phrase and ANDs the terms', async () => {
      await index.index([
        doc(1, { subject: 'report', body: 'the quick brown fox' }),
        doc(2, { subject: 'report', body: 'brown and quick' }),
        doc(3, { subject: 'memo', body: 'the quick brown fox' }),
      ]);
      expect(await find('body', 'quick brown')).toEqual([key(1), key(3)]);
      const both = await index.search({
        userId: alice,
        terms: [
          { field: 'body', value: 'quick' },
          { field: 'subject', value: 'report' },
        ],
      });
      expect(both.map((h) => h.messageKey)).toEqual([key(1), key(2)]);
      const none = await index.search({
        userId: alice,
        terms: [
          { field: 'body', value: 'fox' },
          { field: 'subject', value: 'nonexistent' },
        ],
      });
      expect(none).toEqual([]);
    });

    it('treats query syntax in values as literal text', async () => {
      await index.index([
        doc(1, { body: 'says "hello" and c++ is -fine- a:b NEAR(x y) 5*3 (paren) ^caret' }),
        doc(2, { body: 'unrelated words only' }),
      ]);
      // Each of these, read as FTS syntax, would be an error or would match doc 2 as well.
      for (const value of ['"hello"', 'hello"', 'AND', 'and', '-fine', 'a:b', 'body:says', 'NEAR(x y)', '5*3', '(paren)', '^caret', 'c++']) {
        const hits = await find('text', value);
        expect(hits, value).not.toContain(key(2));
      }
      expect(await find('body', '-fine')).toEqual([key(1)]);
      expect(await find('body', 'a:b')).toEqual([key(1)]);
      expect(await find('body', 'NOT unrelated')).toEqual([]); // a phrase "not unrelated", not a negation
      expect(await find('body', 'unrelated OR hello')).toEqual([]);
      for (const value of ['"', '*', '-', ':', '""', '(', ')', '\\']) {
        await expect(find('text', value), value).resolves.toBeDefined();
      }
    });

    it('returns every message of the user for no terms (or blank ones), ordered by mailbox and UID', async () => {
      await index.index([
        doc(1, { mailboxId: 2, uid: 1, body: 'alpha' }),
        doc(2, { mailboxId: 1, uid: 9, body: 'alpha' }),
        doc(3, { mailboxId: 1, uid: 3, body: 'alpha' }),
        doc(4, { userId: bob, body: 'alpha' }),
      ]);
      const all = await index.search({ userId: alice, terms: [] });
      expect(all).toEqual([
        { messageKey: key(3), mailboxId: 1, uid: 3 },
        { messageKey: key(2), mailboxId: 1, uid: 9 },
        { messageKey: key(1), mailboxId: 2, uid: 1 },
      ]);
      expect((await index.search({ userId: alice, terms: [{ field: 'body', value: '  ' }] })).length).toBe(3);
      const inOne = await index.search({ userId: alice, mailboxId: 1, terms: [{ field: 'body', value: 'alpha' }] });
      expect(inOne.map((h) => h.uid)).toEqual([3, 9]);
      const limited = await index.search({ userId: alice, terms: [{ field: 'body', value: 'alpha' }], limit: 2 });
      expect(limited.map((h) => h.messageKey)).toEqual([key(3), key(2)]);
    });

    it('keeps users apart', async () => {
      await index.index([doc(1, { body: 'shared secret' }), doc(2, { userId: bob, body: 'shared secret' })]);
      expect(await find('body', 'secret')).toEqual([key(1)]);
      expect(await find('body', 'secret', bob)).toEqual([key(2)]);
      expect(await find('body', 'secret', `carol-${run}@example.test`)).toEqual([]);
    });

    it('is idempotent: indexing a key again replaces the document', async () => {
      await index.index([doc(1, { body: 'original wording' })]);
      await index.index([doc(1, { body: 'original wording' })]);
      expect(await find('body', 'original')).toEqual([key(1)]);
      await index.index([doc(1, { body: 'revised text', uid: 7, mailboxId: 4 })]);
      expect(await find('body', 'original')).toEqual([]);
      expect(await index.search({ userId: alice, terms: [{ field: 'body', value: 'revised' }] })).toEqual([
        { messageKey: key(1), mailboxId: 4, uid: 7 },
      ]);
      await index.index([doc(2, { body: 'same batch' }), doc(2, { body: 'latest in batch' })]);
      expect(await find('body', 'same')).toEqual([]);
      expect(await find('body', 'latest')).toEqual([key(2)]);
    });

    it('removes documents; removing an unknown key is a no-op', async () => {
      await index.index([doc(1, { body: 'ephemeral' }), doc(2, { body: 'ephemeral' })]);
      await index.remove([key(1), `${run}:unknown`]);
      expect(await find('body', 'ephemeral')).toEqual([key(2)]);
      await index.remove([]);
      await index.remove([key(1)]);
      expect(await find('body', 'ephemeral')).toEqual([key(2)]);
    });

    it('keeps the index across close and reopen', async () => {
      await index.index([doc(1, { body: 'persistent' })]);
      await index.close();
      index = await subject.reopen();
      expect(await find('body', 'persistent')).toEqual([key(1)]);
    });
      describe('IMAP substring search', () => {
      const HEADERS = [
        'from: Harriet Sender <harriet@origin.test>',
        'to: Quentin <quentin@dest.test>, other@dest.test',
        'cc: Ophélie <ophelie@copy.test>',
        'bcc: hidden@blind.test',
        'subject: ÉCOLE report ΟΔΟΣ "quoted" a:b {body} *star*',
        'x-mailer: Zeppelin 2.0',
        'x-empty: ',
        'received: from relay.test',
        'received: by mx.test',
      ].join('\n');
      function mail(n: number, over: Partial<SearchDocument> = {}): SearchDocument {
        return doc(n, { headers: `subject: plain ${n}\nfrom: x${n}@y.test`, body: `body of ${n}`, ...over });
      }
      const uids = async (match: SubstringMatch, mailboxId = 1, userId = alice) => [...(await index.matchUids(userId, mailboxId, match))].sort((a, b) => a - b);

      it('matches case-insensitive substrings in the right field, exactly as matchesFields', async () => {
        const docs = [
          mail(1, { headers: HEADERS, body: 'The Walrus arrives TOMORROW; invoice #42 — Grüße, Straße', attachments: 'Blueprint.PDF manifest.xlsx' }),
          mail(2, { headers: 'subject: nothing\nfrom: walrus@zoo.test\nx-mailer: Other', body: 'nothing at all', attachments: '' }),
          mail(3, { headers: 'subject: \nto: quentin@dest.test', body: 'école ΟΔΌΣ οδος', attachments: 'a' }),
          mail(4, { headers: 'x-only: one\nx-only: two', body: '', attachments: '' }),
        ];
        await index.index(docs);
        const needles = ['', 'a', 'w', 'ab', 'é', 'walrus', 'WALRUS', 'alrus arr', 'voice #4', '#42', 'grüsse', 'straße', 'école', 'ÉCOLE',
          'οδος', 'ΟΔΟΣ', 'harriet@origin', 'Quentin', 'dest.test', 'ophélie', 'hidden', 'zeppelin 2', '"quoted"', 'a:b', '{body}', '*star*',
          'blueprint.pdf', 'PDF manifest', 'subject: éc', 'from: ', 'nothing', 'two', 'relay', 'by mx', 'line\nbreak', '"', '*', 'AND', 'x-only'];
        const fields = ['subject', 'FROM', 'to', 'Cc', 'bcc', 'x-mailer', 'X-Empty', 'x-only', 'received', 'missing', 'sub:ject', ''];
        const matches: SubstringMatch[] = needles.flatMap((needle) => [
          { in: 'text' as const, needle },
          { in: 'body' as const, needle },
          ...fields.map((field) => ({ in: 'header' as const, field, needle })),
        ]);
        for (const match of matches) {
          const expected = docs.filter((d) => matchesFields(searchFields(d.headers ?? '', d.body, d.attachments), match)).map((d) => d.uid);
          expect(await uids(match), JSON.stringify(match)).toEqual(expected);
        }
        // A few spelled out, so the reference itself is checked too.
        expect(await uids({ in: 'body', needle: 'ALRUS' })).toEqual([1]);
        expect(await uids({ in: 'text', needle: 'walrus' })).toEqual([1, 2]);
        expect(await uids({ in: 'header', field: 'from', needle: 'WALRUS@' })).toEqual([2]);
        expect(await uids({ in: 'header', field: 'subject', needle: 'école r' })).toEqual([1]);
        expect(await uids({ in: 'header', field: 'subject', needle: 'οδος' })).toEqual([1]);
        expect(await uids({ in: 'header', field: 'subject', needle: '' })).toEqual([1, 2, 3]);
        expect(await uids({ in: 'header', field: 'x-empty', needle: '' })).toEqual([1]);
        expect(await uids({ in: 'header', field: 'x-only', needle: 'two' })).toEqual([4]);
        expect(await uids({ in: 'header', field: 'received', needle: 'mx' })).toEqual([1]);
        expect(await uids({ in: 'body', needle: 'cc' })).toEqual([]);
        expect(await uids({ in: 'body', needle: 'manifest' })).toEqual([1]);
      });

      it('keeps users and mailboxes apart and leaves out documents without headers', async () => {
        await index.index([
          mail(1, { body: 'shared secret' }),
          mail(2, { body: 'shared secret', mailboxId: 2, uid: 1 }),
          mail(3, { body: 'shared secret', userId: bob, uid: 1 }),
          mail(4, { body: 'shared secret', headers: '', uid: 4 }),
        ]);
        expect(await uids({ in: 'body', needle: 'secret' })).toEqual([1]);
        expect(await uids({ in: 'body', needle: 'se' })).toEqual([1]);
        expect(await uids({ in: 'body', needle: '' })).toEqual([1]);
        expect(await uids({ in: 'body', needle: 'secret' }, 2)).toEqual([1]);
        expect(await uids({ in: 'body', needle: 'secret' }, 1, bob)).toEqual([1]);
        expect(await uids({ in: 'body', needle: 'secret' }, 1, `carol-${run}@example.test`)).toEqual([]);
        expect([...(await index.indexedUids(alice, 1))]).toEqual([1]);
        expect([...(await index.indexedUids(bob, 1))]).toEqual([1]);
        expect([...(await index.indexedUids(bob, 2))]).toEqual([]);
      });

      it('gives the values of a header field by UID', async () => {
        await index.index([
          mail(1, { headers: 'Date: Mon, 6 Jan 2025 10:00:00 +0100\nx-a: 1\nx-a: Two' }),
          mail(2, { headers: 'subject: no date' }),
        ]);
        expect(await index.fieldValues(alice, 1, 'DATE')).toEqual(new Map([[1, ['mon, 6 jan 2025 10:00:00 +0100']]]));
        expect(await index.fieldValues(alice, 1, 'x-a')).toEqual(new Map([[1, ['1', 'two']]]));
        expect(await index.fieldValues(alice, 1, 'x-none')).toEqual(new Map());
        expect(await index.fieldValues(bob, 1, 'date')).toEqual(new Map());
      });

      it('relocates moved documents, copies copied ones and removes expunged ones, idempotently', async () => {
        await index.index([mail(1, { body: 'wandering albatross' }), mail(2, { body: 'stay-at-home albatross' })]);
        const move = [{ messageKey: key(1), mailboxId: 5, uid: 70 }, { messageKey: `${run}:unknown`, mailboxId: 5, uid: 71 }];
        await index.relocate(move);
        await index.relocate(move);
        expect(await uids({ in: 'body', needle: 'albatross' })).toEqual([2]);
        expect(await uids({ in: 'body', needle: 'albatross' }, 5)).toEqual([70]);
        expect([...(await index.indexedUids(alice, 5))]).toEqual([70]);

        const copies = [
          { fromKey: key(2), toKey: key(20), mailboxId: 6, uid: 3 },
          { fromKey: `${run}:unknown`, toKey: key(21), mailboxId: 6, uid: 4 },
          { fromKey: key(1), toKey: key(1), mailboxId: 6, uid: 5 }, // a move reported as a copy with the same key
        ];
        await index.copy(copies);
        await index.copy(copies);
        expect(await uids({ in: 'body', needle: 'albatross' }, 6)).toEqual([3, 5]);
        expect(await uids({ in: 'text', needle: 'x2@y' }, 6)).toEqual([3]);
        expect(await uids({ in: 'body', needle: 'albatross' }, 5)).toEqual([]);
        expect(await uids({ in: 'body', needle: 'albatross' })).toEqual([2]);
        expect(await uids({ in: 'body', needle: 'albatross' }, 6, bob)).toEqual([]);
        const words = await index.search({ userId: alice, mailboxId: 6, terms: [{ field: 'body', value: 'home' }] });
        expect(words).toEqual([{ messageKey: key(20), mailboxId: 6, uid: 3 }]);

        await index.remove([key(20)]);
        expect(await uids({ in: 'body', needle: 'albatross' }, 6)).toEqual([5]);
        expect(await uids({ in: 'body', needle: 'al' }, 6)).toEqual([5]);
        expect(await uids({ in: 'body', needle: 'albatross' })).toEqual([2]);
        await index.relocate([]);
        await index.copy([]);
      });

      it('keeps substring documents across close and reopen', async () => {
        await index.index([mail(1, { body: 'persistent walrus' })]);
        await index.close();
        index = await subject.reopen();
        expect(await uids({ in: 'body', needle: 'ent wal' })).toEqual([1]);
        expect([...(await index.indexedUids(alice, 1))]).toEqual([1]);
      });
    });
});
}
