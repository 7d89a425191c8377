/**
 * The contract every `SearchIndex` implementation passes (embedded SQLite FTS5, OpenSearch):
 * run it from the implementation's test file with `runSearchIndexConformance('name', factory)`.
 *
 * Semantics: words are matched case-insensitively with diacritics folded; the last word of a
 * value also matches as a prefix (IMAP SEARCH is substring-based, RFC 9051 §6.4.4); a value
 * of several words is a phrase; terms are AND-ed; user input is never query syntax. Users and
 * keys are unique per test so a shared cluster can be used. An implementation that is only
 * near-real-time must make `index()` visible to `search()` before it resolves (refresh).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SearchDocument, SearchField, SearchIndex } from './search.ts';

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
  });
}
