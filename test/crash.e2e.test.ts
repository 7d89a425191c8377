/**
 * Crash test (DESIGN.md §1.1, §1.3): the server runs as a child process and is killed with
 * SIGKILL at random moments while Python's smtplib sends 2,000 messages, then restarted on the
 * same port — at least 5 times. A client whose connection breaks resends with a new Message-ID
 * (like an MTA whose 250 was lost). In the end every attempt that got a `250` is stored exactly
 * once; an attempt that got no 250 may be stored once (its commit landed before the kill) or
 * not at all, never twice.
 */
import { describe, it, expect } from 'vitest';
import { freePort, provision, startSluice, tempDir, waitFor, type RunningSluice } from './harness/server.ts';
import { allMessages, metricSum, openStoreOf, pythonSend, scrape, type SendEvent } from './harness/inspect.ts';

const USERS = Array.from({ length: 10 }, (_, i) => `crash${i + 1}@sluice.test`);
const COUNT = 2000;
const KILLS = 5;

describe('crash test: SIGKILL during a load of 2,000 messages', () => {
  it('stores every acknowledged message exactly once', async () => {
    const dataDir = tempDir();
    await provision(dataDir, 'sluice.test', USERS);
    const smtpPort = await freePort();
    let server: RunningSluice = await startSluice({ dataDir, smtpPort });

    let acked = 0;
    const sending = pythonSend(
      { port: smtpPort, users: USERS.join(','), count: COUNT, concurrency: 4, 'per-conn': 20, 'thread-size': 4, size: 4000, deadline: 400 },
      (e: SendEvent) => {
        if (e.ack) acked++;
      },
    );

    // Kill at random moments spread over the load; restart each time on the same port.
    let kills = 0;
    const killer = (async () => {
      while (kills < KILLS) {
        const target = Math.min(COUNT - 50, Math.floor(((kills + 1) / (KILLS + 1)) * COUNT + (Math.random() - 0.5) * 150));
        await waitFor('load progress', async () => acked >= target, 240_000, 20);
        await new Promise((r) => setTimeout(r, Math.random() * 150));
        await server.kill();
        kills++;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
        server = await startSluice({ dataDir, smtpPort });
      }
    })();

    const events = await sending;
    await killer;
    expect(kills).toBeGreaterThanOrEqual(KILLS);
    const done = events.find((e) => e.done);
    expect(done?.left).toBe(0);

    // Let the pipeline drain: every stage caught up.
    await waitFor('pipeline drained', async () => {
      const m = await scrape(server.httpPort);
      return metricSum(m, 'sluice_consumer_lag_records') === 0 && metricSum(m, 'sluice_topic_end_offset', { topic: 'mail.received' }) > 0;
    }, 180_000, 200);
    await server.stop();

    const ackedIds = new Set(events.filter((e) => e.ack).map((e) => e.ack!));
    expect(new Set(events.filter((e) => e.ack).map((e) => e.n)).size).toBe(COUNT);
    const store = openStoreOf(dataDir);
    try {
      const stored = await allMessages(store, USERS);
      const copies = new Map<string, number>();
      for (const m of stored) copies.set(m.messageId ?? '', (copies.get(m.messageId ?? '') ?? 0) + 1);
      const lost = [...ackedIds].filter((id) => !copies.has(id));
      const duplicated = [...copies].filter(([, n]) => n > 1);
      expect(lost).toEqual([]);
      expect(duplicated).toEqual([]);
      const unackedStored = [...copies.keys()].filter((id) => !ackedIds.has(id)).length;
      console.log(`crash test: ${kills} kills, ${ackedIds.size} acknowledged, ${stored.length} stored, ${unackedStored} stored without a 250 (commit landed, reply lost)`);
      expect(stored.length).toBe(ackedIds.size + unackedStored);
    } finally {
      await store.close();
    }
  }, 600_000);
});
