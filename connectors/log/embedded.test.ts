import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLogConformance } from './conformance.ts';
import { EmbeddedLog } from './embedded.ts';
import type { LogRecord, ProduceRecord, RecordPosition } from './log.ts';
import type { FileSync } from '../wal-commit.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
}

for (const syncOnPool of [false, true]) {
runLogConformance(syncOnPool ? 'embedded, fsync on the thread pool' : 'embedded', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'log.db');
  const opened = [new EmbeddedLog({ path: file, syncOnPool })];
  return {
    log: opened[0],
    reopen: async () => {
      const log = new EmbeddedLog({ path: file, syncOnPool });
      opened.push(log);
      return log;
    },
    cleanup: async () => {
      for (const log of opened) await log.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
}

function rec(topic: string, key: string, value: string | Buffer, extra: Partial<ProduceRecord> = {}): ProduceRecord {
  return { topic, key, value: typeof value === 'string' ? Buffer.from(value) : value, ...extra };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('EmbeddedLog', () => {
  let dir: string;
  let file: string;
  const logs: EmbeddedLog[] = [];
  const open = (lingerMs?: number, lockSpinMs?: number, syncOnPool?: boolean, syncFile?: FileSync): EmbeddedLog => {
    const log = new EmbeddedLog({ path: file, lingerMs, lockSpinMs, syncOnPool, syncFile });
    logs.push(log);
    return log;
  };

  beforeEach(() => {
    dir = tempDir();
    file = path.join(dir, 'log.db');
  });
  afterEach(async () => {
    for (const log of logs.splice(0)) await log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('group commit: concurrent produce calls share one transaction', async () => {
    const log = open();
    await log.ensureTopics([{ name: 't', partitions: 4 }]);
    const before = log.stats();
    const positions = await Promise.all(Array.from({ length: 1000 }, (_, i) => log.produce([rec('t', `k${i}`, `v${i}`)])));
    const after = log.stats();
    expect(positions.flat()).toHaveLength(1000);
    expect(after.records - before.records).toBe(1000);
    expect(after.transactions - before.transactions).toBe(1);
  });

  it('group commit: a consumer commit joins the produce calls of the same tick', async () => {
    const log = open();
    await log.ensureTopics([{ name: 'in', partitions: 1 }, { name: 'out', partitions: 1 }]);
    await log.produce([rec('in', 'k', 'a')]);
    const consumer = await log.consumer('g', ['in']);
    const [input] = await consumer.poll(10, 1000);
    const before = log.stats().transactions;
    await Promise.all([
      consumer.commit([rec('out', 'k', 'a-out')], [{ topic: 'in', partition: 0, offset: input.offset + 1 }]),
      log.produce([rec('in', 'k', 'b')]),
      log.produce([rec('in', 'k', 'c')]),
    ]);
    expect(log.stats().transactions - before).toBe(1);
    expect(await log.committed('g', 'in')).toEqual([1]);
    expect(await log.endOffsets('in')).toEqual([3]);
    expect((await log.read('out', 0, 0, 10)).map((r) => r.value.toString())).toEqual(['a-out']);
  });

  it('fsyncs every transaction holding a produce, and not one of consumer commits only (a stage commit is made durable by the next fsync)', async () => {
    const log = open();
    await log.ensureTopics([{ name: 'in', partitions: 1 }, { name: 'out', partitions: 1 }]);
    await log.produce([rec('in', 'k', 'a'), rec('in', 'k', 'b')]);
    const consumer = await log.consumer('g', ['in']);
    const [a, b] = await consumer.poll(10, 1000);
    const durable = (): number => log.stats().durableTransactions;
    let before = durable();
    await consumer.commit([rec('out', 'k', 'a-out')], [{ topic: 'in', partition: 0, offset: a.offset + 1 }]);
    expect(durable() - before).toBe(0);
    // Committed and visible all the same, to this connection and to another one.
    expect(await log.committed('g', 'in')).toEqual([1]);
    const other = new Database(file, { readonly: true });
    try {
      expect(other.prepare('SELECT count(*) AS n FROM records WHERE topic = ?').get('out')).toEqual({ n: 1 });
    } finally {
      other.close();
    }
    // A commit that shares its transaction with a produce is fsynced with it.
    before = durable();
    await Promise.all([consumer.commit([], [{ topic: 'in', partition: 0, offset: b.offset + 1 }]), log.produce([rec('in', 'k', 'c')])]);
    expect(durable() - before).toBe(1);
    before = durable();
    await log.produce([rec('in', 'k', 'd')]);
    expect(durable() - before).toBe(1);
  });

  it('syncOnPool: a produce settles after the WAL fsync on the pool; until then its records are hidden from this instance, not its consumer commits', async () => {
    const syncs: (() => void)[] = [];
    const gate: FileSync = () => new Promise<void>((release) => syncs.push(release));
    const log = open(undefined, undefined, true, gate);
    await log.ensureTopics([{ name: 'in', partitions: 1 }, { name: 'out', partitions: 1 }]);
    const first = log.produce([rec('in', 'k', 'a')]);
    await sleep(10);
    expect(syncs).toHaveLength(1);
    let settled = false;
    void first.then(() => (settled = true));
    await sleep(10);
    expect(settled).toBe(false); // not durable: no 250 yet
    // Committed in the file (another connection sees it), hidden from this instance's readers.
    const other = new Database(file, { readonly: true });
    expect(other.prepare("SELECT count(*) FROM records WHERE topic = 'in'").pluck().get()).toBe(1);
    other.close();
    const consumer = await log.consumer('g', ['in']);
    expect(await consumer.poll(10, 50)).toEqual([]);
    expect(await log.endOffsets('in')).toEqual([0]);
    expect(await log.read('in', 0, 0, 10)).toEqual([]);
    const durableBefore = log.stats().durableTransactions;
    // The fsync ends: the produce settles, a waiting poll wakes and gets the record.
    const polled = consumer.poll(10, 5000);
    syncs[0]();
    expect(await first).toEqual([{ topic: 'in', partition: 0, offset: 0 }]);
    const [a] = await polled;
    expect(a.value.toString()).toBe('a');
    expect(log.stats().durableTransactions - durableBefore).toBe(1);
    // A consumer commit sharing its transaction with a produce settles at once; the produce later.
    const order: string[] = [];
    const committing = consumer.commit([rec('out', 'k', 'a-out')], [{ topic: 'in', partition: 0, offset: 1 }]).then(() => order.push('commit'));
    const producing = log.produce([rec('in', 'k', 'b')]).then(() => order.push('produce'));
    await committing;
    await sleep(10);
    expect(order).toEqual(['commit']);
    expect((await log.read('out', 0, 0, 10)).map((r) => r.value.toString())).toEqual(['a-out']);
    expect(await log.endOffsets('in')).toEqual([1]);
    syncs[1]();
    await producing;
    expect(order).toEqual(['commit', 'produce']);
    expect(await log.endOffsets('in')).toEqual([2]);
  });

  it('syncOnPool: appends made during a running fsync share the next one, and each partition shows up to its first record not yet durable', async () => {
    const syncs: (() => void)[] = [];
    const log = open(undefined, undefined, true, () => new Promise<void>((release) => syncs.push(release)));
    await log.ensureTopics([{ name: 't', partitions: 2 }]);
    const p0 = (v: string) => rec('t', 'k', v, { partition: 0 });
    const first = log.produce([p0('a')]);
    await sleep(5);
    const second = log.produce([p0('b'), rec('t', 'k', 'x', { partition: 1 })]);
    await sleep(5);
    const third = log.produce([p0('c')]);
    await sleep(5);
    expect(syncs).toHaveLength(1); // the second and third wait for the first fsync to end
    expect(await log.endOffsets('t')).toEqual([0, 0]);
    syncs[0]();
    await first;
    await sleep(5);
    expect(syncs).toHaveLength(2);
    expect(await log.endOffsets('t')).toEqual([1, 0]);
    syncs[1]();
    await Promise.all([second, third]);
    expect(await log.endOffsets('t')).toEqual([3, 1]);
    expect((await log.read('t', 0, 0, 10)).map((r) => r.value.toString())).toEqual(['a', 'b', 'c']);
  });

  it('syncOnPool: a failed fsync rejects the produce (the client retries), and the records it committed are shown all the same', async () => {
    const log = open(undefined, undefined, true, () => Promise.reject(new Error('EIO')));
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    await expect(log.produce([rec('t', 'k', 'a')])).rejects.toThrow('EIO');
    expect(await log.endOffsets('t')).toEqual([1]);
  });

  it('lingerMs gathers calls from several ticks into one transaction', async () => {
    const log = open(1000);
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    const before = log.stats().transactions;
    const calls = [log.produce([rec('t', 'k', '1')])];
    await new Promise((resolve) => setImmediate(resolve));
    calls.push(log.produce([rec('t', 'k', '2')]));
    await sleep(5);
    calls.push(log.produce([rec('t', 'k', '3')]));
    expect((await Promise.all(calls)).flat().map((p) => p.offset)).toEqual([0, 1, 2]);
    expect(log.stats().transactions - before).toBe(1);
  });

  it('a second instance on the same file (another process) appends safely and is seen by polls', async () => {
    const a = open();
    const b = open();
    await b.ensureTopics([{ name: 'shared', partitions: 1 }]);
    const offsets: number[] = [];
    for (let i = 0; i < 6; i++) {
      const [p] = await (i % 2 === 0 ? a : b).produce([rec('shared', 'k', `v${i}`)]);
      offsets.push(p.offset);
    }
    expect(offsets).toEqual([0, 1, 2, 3, 4, 5]);
    const interleaved = await Promise.all([a.produce([rec('shared', 'k', 'x')]), b.produce([rec('shared', 'k', 'y')])]);
    expect(interleaved.flat().map((p) => p.offset).sort()).toEqual([6, 7]);

    const consumer = await a.consumer('g', ['shared']);
    expect(await consumer.poll(100, 100)).toHaveLength(8);
    const waiting = consumer.poll(10, 2000);
    await sleep(50);
    await b.produce([rec('shared', 'k', 'from-b')]);
    expect((await waiting).map((r) => r.value.toString())).toEqual(['from-b']);
    // Grown by the other instance: A's cached partition count follows.
    await b.ensureTopics([{ name: 'shared', partitions: 3 }]);
    expect((await a.produce([rec('shared', 'k', 'p2', { partition: 2 })]))[0]).toMatchObject({ partition: 2, offset: 0 });
  });

  it('consumers waiting on one instance all see an append by another instance within about the check interval, not at their timeout', async () => {
    const a = open();
    const b = open();
    await b.ensureTopics([{ name: 'one', partitions: 2 }, { name: 'two', partitions: 1 }]);
    const consumers = await Promise.all([a.consumer('g1', ['one']), a.consumer('g2', ['one']), a.consumer('g3', ['two']), a.consumer('g4', ['one', 'two'])]);
    const t0 = Date.now();
    const polls = consumers.map(async (c) => {
      const records = await c.poll(10, 10_000);
      return { values: records.map((r) => r.value.toString()).sort(), ms: Date.now() - t0 };
    });
    await sleep(150);
    await b.produce([rec('one', 'k', 'first', { partition: 1 })]);
    await sleep(150);
    await b.produce([rec('two', 'k', 'second')]);
    const seen = await Promise.all(polls);
    expect(seen.map((s) => s.values)).toEqual([['first'], ['first'], ['second'], ['first']]);
    // Each within a second of its append, far from the 10 s timeout.
    for (const s of seen) expect(s.ms).toBeLessThan(1_500);
  });

  it('while another connection holds the write lock, a group commit waits on the event loop (not blocking it), gathering later calls', async () => {
    // A spin window longer than the test, so a slow machine cannot push it into the blocking wait.
    const log = open(undefined, 60_000);
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      const before = log.stats().transactions;
      let settled = 0;
      const first = log.produce([rec('t', 'k', '1')]).then((p) => (settled++, p));
      // The thread keeps running: timers fire while the batch waits for the lock.
      let ticks = 0;
      for (let i = 0; i < 5; i++) {
        await sleep(2);
        ticks++;
      }
      const second = log.produce([rec('t', 'k', '2')]).then((p) => (settled++, p));
      await sleep(2);
      expect([ticks, settled]).toEqual([5, 0]);
      other.exec('COMMIT');
      expect((await Promise.all([first, second])).flat().map((p) => p.offset)).toEqual([0, 1]);
      expect(log.stats().transactions - before).toBe(1);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
  });

  it('a write lock held longer than the spin: the batch falls back to the blocking wait and commits once it is free', async () => {
    const log = open();
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    // Another process takes the lock, says so, and keeps it for 300 ms.
    const holder = spawn(process.execPath, ['-e', `
      const db = new (require('better-sqlite3'))(process.argv[1]);
      db.exec('BEGIN IMMEDIATE'); console.log('locked');
      setTimeout(() => { db.exec('COMMIT'); db.close(); }, 300);`, file], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const started = performance.now();
    const [position] = await log.produce([rec('t', 'k', 'late')]);
    expect(position.offset).toBe(0);
    expect(performance.now() - started).toBeGreaterThan(100); // it did wait for the other process
    await new Promise((resolve) => holder.once('exit', resolve));
  });

  it('retention deletes records older than the topic retention; offsets are never reused', async () => {
    const now = Date.now();
    let log = open();
    await log.ensureTopics([{ name: 'short', partitions: 1, retentionMs: 1000 }, { name: 'forever', partitions: 1 }]);
    await log.produce([
      rec('short', 'k', 'old-1', { timestamp: now - 5000 }),
      rec('short', 'k', 'old-2', { timestamp: now - 2000 }),
      rec('short', 'k', 'new', { timestamp: now }),
      rec('forever', 'k', 'ancient', { timestamp: 1 }),
    ]);
    expect((await log.topics()).find((t) => t.name === 'short')?.retentionMs).toBe(1000);
    expect(await log.enforceRetention(now)).toBe(2);
    expect((await log.read('short', 0, 0, 10)).map((r) => [r.offset, r.value.toString()])).toEqual([[2, 'new']]);
    expect(await log.read('forever', 0, 0, 10)).toHaveLength(1);
    expect(await log.read('forever', 0, 0, 0)).toEqual([]);
    expect(await log.endOffsets('short')).toEqual([3]);
    const consumer = await log.consumer('fresh', ['short']);
    expect((await consumer.poll(10, 100)).map((r) => r.offset)).toEqual([2]);
    expect(await log.enforceRetention(now + 10_000)).toBe(1);
    await log.close();
    log = open();
    expect((await log.produce([rec('short', 'k', 'next')]))[0].offset).toBe(3);
  });

  it('commit moves offsets forward only and validates topic, partition and offset', async () => {
    const log = open();
    await log.ensureTopics([{ name: 't', partitions: 2 }]);
    await log.produce(Array.from({ length: 10 }, (_, i) => rec('t', 'k', `v${i}`, { partition: 0 })));
    const consumer = await log.consumer('g', ['t']);
    await consumer.commit([], [{ topic: 't', partition: 0, offset: 5 }]);
    await consumer.commit([], [{ topic: 't', partition: 0, offset: 2 }]);
    expect(await log.committed('g', 't')).toEqual([5, 0]);
    await expect(consumer.commit([], [{ topic: 'nope', partition: 0, offset: 1 }])).rejects.toThrow(/unknown topic "nope"/);
    await expect(consumer.commit([], [{ topic: 't', partition: 2, offset: 1 }])).rejects.toThrow(/partition 2 out of range/);
    await expect(consumer.commit([], [{ topic: 't', partition: 1, offset: 1 }])).rejects.toThrow(/end offset is 0/);
    // An output in the same commit makes that offset valid.
    await consumer.commit([rec('t', 'k', 'out', { partition: 1 })], [{ topic: 't', partition: 1, offset: 1 }]);
    expect(await log.committed('g', 't')).toEqual([5, 1]);
    // A new consumer starts at the committed offsets.
    const next = await log.consumer('g', ['t']);
    expect((await next.poll(100, 100)).map((r) => r.value.toString())).toEqual(['v5', 'v6', 'v7', 'v8', 'v9']);
  });

  it('explains errors: shrinking, unknown topics, closed log', async () => {
    const log = open();
    await log.ensureTopics([{ name: 't', partitions: 3 }]);
    await expect(log.ensureTopics([{ name: 't', partitions: 2 }])).rejects.toThrow(
      'cannot shrink topic "t" from 3 to 2 partitions',
    );
    await expect(log.ensureTopics([{ name: 'z', partitions: 0 }])).rejects.toThrow(/positive integer/);
    await expect(log.consumer('g', ['nope'])).rejects.toThrow(/unknown topic "nope"/);
    await expect(log.endOffsets('nope')).rejects.toThrow(/unknown topic/);
    await log.close();
    await expect(log.produce([rec('t', 'k', 'v')])).rejects.toThrow(/closed/);
  });

  it('close() flushes queued produce calls and ends waiting polls', async () => {
    let log = open(1000);
    await log.ensureTopics([{ name: 't', partitions: 1 }]);
    const consumer = await log.consumer('g', ['t']);
    const idle = await log.consumer('idle', ['t']);
    const idleWait = idle.poll(10, 30_000);
    await sleep(20);
    await idle.close();
    expect(await idleWait).toEqual([]);
    await expect(idle.poll(1, 10)).rejects.toThrow(/closed/);
    const pending = log.produce([rec('t', 'k', 'queued')]);
    const waiting = consumer.poll(10, 30_000);
    const started = Date.now();
    await log.close();
    expect(await pending).toEqual([{ topic: 't', partition: 0, offset: 0 }]);
    await waiting;
    expect(Date.now() - started).toBeLessThan(5000);
    log = open();
    expect((await log.read('t', 0, 0, 10)).map((r) => r.value.toString())).toEqual(['queued']);
  });

  it.each([
    ['', false],
    [', fsyncs on the thread pool', true],
  ])('survives SIGKILL of a producing process%s; a second process appends and reads alongside it', async (_, syncOnPool) => {
    // This process opens the same file while the child produces: a real second writer and reader.
    const parent = open(undefined, undefined, syncOnPool);
    await parent.ensureTopics([{ name: 'crash', partitions: 3 }]);
    const watcher = await parent.consumer('watch', ['crash']);
    const script = path.join(import.meta.dirname, 'embedded', 'crash-producer.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, file, ...(syncOnPool ? ['--sync-on-pool'] : [])], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const killed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child produced too little: ${err}`)), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.split('\n').length > 2000) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('close', () => reject(new Error(`child exited early: ${err}`)));
    });
    let stop = false;
    const parentAcks: [string, RecordPosition][] = [];
    const seen: LogRecord[] = [];
    const parentWork = (async () => {
      for (let i = 0; !stop; i++) {
        const [position] = await parent.produce([rec('crash', 'parent', `parent-${i}`)]);
        parentAcks.push([`parent-${i}`, position]);
        seen.push(...(await watcher.poll(500, 20)));
      }
    })();
    await killed;
    stop = true;
    await Promise.all([exited, parentWork]);

    const acked: [string, RecordPosition][] = out
      .split('\n')
      .slice(0, -1) // the last line may be cut short
      .map((line) => {
        const [id, partition, offset] = line.split(' ').map(Number);
        return [`msg-${id}`, { topic: 'crash', partition, offset }];
      });
    expect(acked.length).toBeGreaterThan(1000);
    expect(parentAcks.length).toBeGreaterThan(0);
    expect(seen.some((r) => r.value.toString().startsWith('msg-'))).toBe(true);
    const log = open();
    const stored = new Map<string, string>();
    for (let p = 0; p < 3; p++) {
      for (const r of await log.read('crash', p, 0, 1_000_000)) stored.set(`${p}:${r.offset}`, r.value.toString());
    }
    for (const [value, { partition, offset }] of [...acked, ...parentAcks]) {
      expect(stored.get(`${partition}:${offset}`)).toBe(value);
    }
    const values = [...stored.values()];
    expect(new Set(values).size).toBe(values.length);
    console.log(
      `crash test: ${acked.length} acknowledged by the killed child, ${parentAcks.length} by this process, ` +
        `${stored.size} stored; this process's consumer saw ${seen.length}`,
    );
  });

  it('throughput (logged, not asserted)', async () => {
    const log = open();
    await log.ensureTopics([{ name: 'in', partitions: 8 }, { name: 'out', partitions: 8 }]);
    const value = Buffer.alloc(1024, 0x61);
    const count = 20_000;
    let before = log.stats();
    let started = performance.now();
    const positions = await Promise.all(
      Array.from({ length: count }, (_, i) => log.produce([rec('in', `user-${i % 500}`, value)])),
    );
    let seconds = (performance.now() - started) / 1000;
    const produced = log.stats();
    expect(positions).toHaveLength(count);
    console.log(
      `produce: ${count} concurrent calls of 1 KB in ${seconds.toFixed(2)} s = ${Math.round(count / seconds)} records/s, ` +
        `${produced.transactions - before.transactions} transactions`,
    );

    // SMTP-like: 100 sessions, each waiting for its acknowledgement before the next message.
    before = log.stats();
    started = performance.now();
    await Promise.all(
      Array.from({ length: 100 }, async (_, session) => {
        for (let i = 0; i < count / 100; i++) await log.produce([rec('in', `user-${session}`, value)]);
      }),
    );
    seconds = (performance.now() - started) / 1000;
    const sessions = log.stats();
    console.log(
      `produce: 100 sessions × ${count / 100} sequential 1 KB calls in ${seconds.toFixed(2)} s = ` +
        `${Math.round(count / seconds)} records/s, ${sessions.transactions - before.transactions} transactions`,
    );

    before = sessions;
    const consumer = await log.consumer('bench', ['in']);
    started = performance.now();
    let consumed = 0;
    let commits = 0;
    while (consumed < 2 * count) {
      const batch = await consumer.poll(500, 1000);
      const offsets = new Map<string, { topic: string; partition: number; offset: number }>();
      for (const r of batch) offsets.set(`${r.partition}`, { topic: 'in', partition: r.partition, offset: r.offset + 1 });
      await consumer.commit(batch.map((r) => rec('out', r.key, r.value)), [...offsets.values()]);
      consumed += batch.length;
      commits++;
    }
    seconds = (performance.now() - started) / 1000;
    expect((await log.endOffsets('out')).reduce((a, b) => a + b, 0)).toBe(2 * count);
    console.log(
      `consume→commit: ${2 * count} records (1 output each) in ${seconds.toFixed(2)} s = ${Math.round((2 * count) / seconds)} records/s, ` +
        `${commits} commits, ${log.stats().transactions - before.transactions} transactions`,
    );
  });
});
