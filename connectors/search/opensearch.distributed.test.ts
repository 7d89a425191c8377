/**
 * The SearchIndex contract on a real OpenSearch node: the one `bash ops/engines/opensearch.sh up`
 * (or `ops/stack up opensearch`) starts. Run with `npm run test:distributed`; SLUICE_OPENSEARCH_URL
 * overrides the node. No node answering fails the run: it never skips.
 *
 * Each test gets an index of its own (`sluice-test-<pid>-<random>`), deleted afterwards. The
 * contract runs on three primary shards, so a write addressed with the wrong routing would land
 * on another shard than the document's and show up as a stale or doubled hit.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@opensearch-project/opensearch';
import { afterAll, describe, expect, it } from 'vitest';
import { runSearchIndexConformance } from './conformance.ts';
import { OpenSearchSearchIndex } from './opensearch.ts';
import type { SearchDocument } from './search.ts';

const node = process.env.SLUICE_OPENSEARCH_URL ?? 'http://127.0.0.1:19200';
const admin = new Client({ node, maxRetries: 0 });
const made: string[] = [];

function freshIndex(): string {
  const name = `sluice-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  made.push(name);
  return name;
}

async function dropIndex(name: string): Promise<void> {
  await admin.indices.delete({ index: name, ignore_unavailable: true });
}

afterAll(async () => {
  for (const name of made) await dropIndex(name);
  await admin.close();
});

describe('an OpenSearch node answers', () => {
  it(`at ${node} (start it with: bash ops/engines/opensearch.sh up)`, async () => {
    const health = await admin.cluster.health({});
    expect(['green', 'yellow']).toContain(health.body.status);
  });
});

runSearchIndexConformance('opensearch', async () => {
  const index = freshIndex();
  const opened = [await OpenSearchSearchIndex.open({ node, index, shards: 3 })];
  return {
    index: opened[0],
    reopen: async () => {
      const again = await OpenSearchSearchIndex.open({ node, index, shards: 3 });
      opened.push(again);
      return again;
    },
    cleanup: async () => {
      for (const i of opened) await i.close();
      await dropIndex(index);
    },
  };
});

describe('OpenSearchSearchIndex on its own terms', () => {
  const doc = (n: number, userId: string, body: string): SearchDocument => ({
    messageKey: `k${n}`,
    userId,
    mailboxId: 1,
    uid: n,
    receivedAt: 1_700_000_000_000 + n,
    from: '',
    to: '',
    cc: '',
    subject: '',
    body,
    attachments: '',
    headers: `subject: s${n}`,
  });

  it('routes each document by its owner (lowercased) under the message key', async () => {
    const name = freshIndex();
    const index = await OpenSearchSearchIndex.open({ node, index: name });
    try {
      await index.index([doc(1, 'Alice@Example.TEST', 'routed')]);
      const got = await admin.get({ index: name, id: 'k1', routing: 'alice@example.test' });
      expect(got.body._routing).toBe('alice@example.test');
      expect(got.body._source).toMatchObject({ key: 'k1', user_id: 'alice@example.test', body: 'routed' });
      expect(got.body._source).not.toHaveProperty('sub'); // trigram columns are indexed, not stored
      await expect(admin.index({ index: name, id: 'k2', body: { key: 'k2' } })).rejects.toThrow(/routing_missing/);
    } finally {
      await index.close();
    }
  });

  it('finds a word prefix however many words of other users share it (no expansion limit)', async () => {
    const name = freshIndex();
    const index = await OpenSearchSearchIndex.open({ node, index: name });
    try {
      // More distinct words sorting before alice's than any expansion of "invo" takes (MAX_EXPANSIONS
      // 1000, OpenSearch's default 50): only the indexed prefixes find hers.
      const others = Array.from({ length: 1200 }, (_, i) => doc(10_000 + i, 'bob@example.test', `invoice${String(i).padStart(4, '0')}`));
      await index.index([...others, doc(1, 'alice@example.test', 'invoicezzz')]);
      const hits = await index.search({ userId: 'alice@example.test', terms: [{ field: 'body', value: 'invo' }] });
      expect(hits.map((h) => h.messageKey)).toEqual(['k1']);
      const phrase = await index.search({ userId: 'alice@example.test', terms: [{ field: 'text', value: 'invoicezz' }] });
      expect(phrase.map((h) => h.messageKey)).toEqual(['k1']);
    } finally {
      await index.close();
    }
  });

  it('pages through more hits than one request returns', async () => {
    const name = freshIndex();
    const index = await OpenSearchSearchIndex.open({ node, index: name });
    try {
      const many = Array.from({ length: 2500 }, (_, i) => doc(i + 1, 'carol@example.test', `bulk message ${i}`));
      await index.index(many);
      expect((await index.search({ userId: 'carol@example.test', terms: [{ field: 'body', value: 'bulk' }] })).length).toBe(2500);
      expect((await index.indexedUids('carol@example.test', 1)).size).toBe(2500);
      expect(await index.matchUids('carol@example.test', 1, { in: 'body', needle: 'ge 249' })).toEqual(new Set([250, 2491, 2492, 2493, 2494, 2495, 2496, 2497, 2498, 2499, 2500]));
    } finally {
      await index.close();
    }
  });

  it('loses nothing when batches are cut into many bulk requests (bulkBytes)', async () => {
    const name = freshIndex();
    // About 2.5 kB a document: three documents a request, every request waiting for its refresh.
    const index = await OpenSearchSearchIndex.open({ node, index: name, bulkBytes: 8000 });
    try {
      const docs = Array.from({ length: 12 }, (_, i) => doc(i + 1, 'dave@example.test', `chunked ${'x'.repeat(1000)} ${i}`));
      await index.index(docs);
      expect((await index.indexedUids('dave@example.test', 1)).size).toBe(12);
      await index.relocate(docs.map((d) => ({ messageKey: d.messageKey, mailboxId: 2, uid: d.uid })));
      expect((await index.search({ userId: 'dave@example.test', mailboxId: 2, terms: [{ field: 'body', value: 'chunked' }] })).length).toBe(12);
      await index.remove(docs.map((d) => d.messageKey));
      expect((await index.search({ userId: 'dave@example.test', terms: [] })).length).toBe(0);
    } finally {
      await index.close();
    }
  });

  it('refuses an index made with another mapping version', async () => {
    const name = freshIndex();
    await admin.indices.create({ index: name, body: { mappings: { _meta: { sluice_mapping: 0 } } } });
    await expect(OpenSearchSearchIndex.open({ node, index: name })).rejects.toThrow(/mapping version 0/);
  });
});
