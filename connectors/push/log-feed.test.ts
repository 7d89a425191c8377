/** The push feed of an access process (log-feed.ts) on the embedded log: from the end, every event once, never committing. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { EmbeddedLog } from '../log/embedded.ts';
import { InProcessPushBus } from './push.ts';
import { pushFeedGroup, startLogPushFeed, type LogPushFeed } from './log-feed.ts';
import { schemaType } from '../../schemas/registry.ts';
import type { MailboxEvent } from '../../schemas/types.ts';

const TOPIC = 'mailbox.events';
const eventType = schemaType('MailboxEvent');

function event(eventId: string, userId: string): MailboxEvent {
  return { eventId, userId, at: Date.now(), commandId: `cmd-${eventId}`, delivered: null };
}

function produce(log: EmbeddedLog, events: readonly MailboxEvent[]) {
  return log.produce(events.map((e) => ({ topic: TOPIC, key: e.userId, value: eventType.toBuffer(e) })));
}

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('log push feed', () => {
  const dirs: string[] = [];
  const feeds: LogPushFeed[] = [];
  const logs: EmbeddedLog[] = [];

  afterEach(async () => {
    for (const f of feeds.splice(0)) await f.stop();
    for (const l of logs.splice(0)) await l.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function openLog(): Promise<EmbeddedLog> {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-push-feed-'));
    dirs.push(dir);
    const log = new EmbeddedLog({ path: join(dir, 'log.db') });
    logs.push(log);
    await log.ensureTopics([{ name: TOPIC, partitions: 4 }]);
    return log;
  }

  it('publishes the events appended after it started, each once, not the history; commits nothing', async () => {
    const log = await openLog();
    await produce(log, [event('old-1', 'a@x.test'), event('old-2', 'b@x.test')]);
    const push = new InProcessPushBus();
    const seen: string[] = [];
    const forA: string[] = [];
    push.subscribeAll((e) => seen.push(e.eventId));
    push.subscribe('a@x.test', (e) => forA.push(e.eventId));
    const feed = await startLogPushFeed({ log, push, logger: pino({ level: 'silent' }), pollTimeoutMs: 50 });
    feeds.push(feed);
    await produce(log, [event('new-1', 'a@x.test'), event('new-2', 'b@x.test'), event('new-3', 'a@x.test')]);
    await until('three events', () => seen.length >= 3);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.sort()).toEqual(['new-1', 'new-2', 'new-3']);
    expect(forA).toEqual(['new-1', 'new-3']);
    expect(feed.group).toMatch(/^push\.[A-Za-z0-9_-]+\.\d+\.[0-9a-f]{8}$/);
    expect(await log.committed(feed.group, TOPIC)).toEqual([0, 0, 0, 0]);
  });

  it('skips a record that is not a MailboxEvent and goes on', async () => {
    const log = await openLog();
    const push = new InProcessPushBus();
    const seen: string[] = [];
    push.subscribeAll((e) => seen.push(e.eventId));
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    feeds.push(await startLogPushFeed({ log, push, logger, pollTimeoutMs: 50 }));
    await log.produce([{ topic: TOPIC, key: 'a@x.test', value: Buffer.from([0xff, 0xff, 0xff]) }]);
    await produce(log, [event('after', 'a@x.test')]);
    await until('the good event', () => seen.includes('after'));
    expect(seen).toEqual(['after']);
    expect(warnings.join('')).toContain('not a MailboxEvent');
  });

  it('each process has a group of its own; stop ends the feed', async () => {
    expect(pushFeedGroup()).not.toBe(pushFeedGroup());
    const log = await openLog();
    const push = new InProcessPushBus();
    const seen: string[] = [];
    push.subscribeAll((e) => seen.push(e.eventId));
    const feed = await startLogPushFeed({ log, push, logger: pino({ level: 'silent' }), pollTimeoutMs: 50 });
    await feed.stop();
    await feed.stop();
    await produce(log, [event('late', 'a@x.test')]);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([]);
  });
});
