/**
 * The receiving flow end to end: 1,000 messages from 10 concurrent SMTP clients (Python's
 * smtplib) to 20 local users of a `sluice serve` child process. Each must be stored exactly
 * once, in its recipient's INBOX, findable by a word of its body, with replies grouped into
 * threads. It runs on the engines of the harness (`harness/engines.ts`): the embedded ones here,
 * the distributed ones in `receive.e2e.distributed.test.ts`.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { provision, startSluice, tempDir, waitFor, type RunningSluice } from './harness/server.ts';
import { allMessages, metricSum, pythonSend, scrape } from './harness/inspect.ts';
import { openSearchFor, openStoreFor } from './harness/engines.ts';

const USERS = Array.from({ length: 20 }, (_, i) => `user${i + 1}@sluice.test`);
const COUNT = 1000;

describe('receiving: 1,000 messages, 10 clients, 20 users', () => {
  let dataDir: string;
  let server: RunningSluice;

  beforeAll(async () => {
    dataDir = tempDir();
    await provision(dataDir, 'sluice.test', USERS);
    server = await startSluice({ dataDir });
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('stores each exactly once, in the right INBOX, searchable, threaded', async () => {
    const events = await pythonSend({ port: server.smtpPort, users: USERS.join(','), count: COUNT, concurrency: 10, 'per-conn': 10, 'thread-size': 5, size: 3000 });
    const acks = events.filter((e) => e.ack);
    expect(acks.length).toBe(COUNT);
    expect(events.filter((e) => e.fail)).toEqual([]);

    // Wait until the index stage has processed every delivery (250 → searchable).
    await waitFor('all indexed', async () => metricSum(await scrape(server.httpPort), 'sluice_stage_records_total', { stage: 'index', outcome: 'ok' }) >= COUNT, 120_000);

    const store = await openStoreFor(dataDir);
    const search = await openSearchFor(dataDir);
    try {
      const stored = await allMessages(store, USERS);
      expect(stored.length).toBe(COUNT);
      const byMessageId = new Map(stored.map((m) => [m.messageId, m]));
      expect(byMessageId.size).toBe(COUNT);

      const threadOf = new Map<number, string>();
      for (const ack of acks) {
        const m = byMessageId.get(ack.ack!);
        expect(m, ack.ack).toBeDefined();
        expect(m!.userId).toBe(ack.rcpt);
        expect(m!.mailbox).toBe('INBOX');
        // replies of one thread share a thread id; different threads differ
        const t = threadOf.get(ack.thread!);
        if (t === undefined) threadOf.set(ack.thread!, m!.threadId);
        else expect(m!.threadId).toBe(t);
      }
      expect(new Set(threadOf.values()).size).toBe(COUNT / 5);

      // every message is findable by the unique word in its body, and only that one
      for (const ack of acks) {
        const hits = await search.search({ userId: ack.rcpt!, terms: [{ field: 'body', value: `uniqword${ack.n}x` }] });
        expect(hits.map((h) => h.messageKey)).toEqual([byMessageId.get(ack.ack!)!.messageKey]);
      }
    } finally {
      await search.close();
      await store.close();
    }
  }, 600_000);
});
