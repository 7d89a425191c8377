/**
 * Consumer groups on a real Kafka (the shared stack's broker, or SLUICE_KAFKA_BROKERS): consumers
 * of one group, in one process or in several, split the partitions; a member that leaves or is
 * killed has its partitions moved to the others, which go on from the committed offsets; a member
 * the group has moved past cannot commit (KIP-447). Topic and group names are unique per test.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { Admin } from '@platformatic/kafka';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaLog } from './kafka.ts';
import type { KafkaLogOptions } from './kafka.ts';
import { RebalanceError } from './log.ts';
import type { CommitOffset, Consumer, LogRecord } from './log.ts';

const brokers = (process.env.SLUICE_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',').map((b) => b.trim()).filter(Boolean);
const repoRoot = path.resolve(import.meta.dirname, '../..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function collect(consumer: Consumer, n: number, timeoutMs = 15_000): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < deadline) out.push(...(await consumer.poll(n - out.length, 500)));
  return out;
}

function nextOffsets(records: readonly LogRecord[]): CommitOffset[] {
  const next = new Map<string, CommitOffset>();
  for (const r of records) next.set(`${r.topic}:${r.partition}`, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
  return [...next.values()];
}

const partitionsOf = (c: Consumer) => (c.owned?.() ?? []).map((p) => p.partition).sort((a, b) => a - b);

describe('Kafka consumer groups', () => {
  const logs: KafkaLog[] = [];
  const children: ChildProcessWithoutNullStreams[] = [];
  const open = (options: Partial<KafkaLogOptions> = {}) => {
    const log = new KafkaLog({ brokers, clientId: 'sluice-group-test', ...options });
    logs.push(log);
    return log;
  };
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    for (const log of logs.splice(0)) await log.close();
  });

  it('two consumers of a group split the partitions; closing one moves them to the other, which goes on from the committed offsets', async () => {
    const t = unique('split');
    const group = unique('group');
    const log = open();
    await log.ensureTopics([{ name: t, partitions: 4 }]);
    await log.produce(
      [0, 1, 2, 3].flatMap((p) => Array.from({ length: 10 }, (_, i) => ({ topic: t, partition: p, key: `k${p}`, value: Buffer.from(`p${p}-${i}`) }))),
    );
    const a = await log.consumer(group, [t]);
    const b = await open().consumer(group, [t]); // another client, as another process would be
    await until('the two members to share all four partitions', () => {
      const [ownedA, ownedB] = [partitionsOf(a), partitionsOf(b)];
      return ownedA.length === 2 && ownedB.length === 2 && new Set([...ownedA, ...ownedB]).size === 4;
    }, 15_000);
    const ownedA = partitionsOf(a);

    // Each reads only its own partitions and commits the first five records of each.
    const readA = await collect(a, 20);
    const readB = await collect(b, 20);
    expect(readA.every((r) => ownedA.includes(r.partition))).toBe(true);
    expect(readB.every((r) => !ownedA.includes(r.partition))).toBe(true);
    expect(await a.poll(10, 300)).toEqual([]);
    const firstHalf = (records: LogRecord[]) => records.filter((r) => Number(r.value.toString().split('-')[1]) < 5);
    await a.commit([], nextOffsets(firstHalf(readA)));
    await b.commit([], nextOffsets(firstHalf(readB)));

    const closing = Date.now();
    await a.close();
    await until('the survivor to own all four partitions', () => partitionsOf(b).length === 4, 10_000);
    const takeoverMs = Date.now() - closing;
    console.log(`close → takeover: ${takeoverMs} ms`);
    expect(takeoverMs).toBeLessThan(5_000);

    // Its reads of the old generation cannot be committed any more: it rewinds and reads every
    // partition from the committed offsets.
    await expect(b.commit([], nextOffsets(readB))).rejects.toBeInstanceOf(RebalanceError);
    await b.rewind();
    const rest = await collect(b, 20);
    expect(rest.map((r) => r.value.toString()).sort()).toEqual(
      [0, 1, 2, 3].flatMap((p) => [5, 6, 7, 8, 9].map((i) => `p${p}-${i}`)).sort(),
    );
    expect(await b.poll(10, 300)).toEqual([]);
    await b.commit([], nextOffsets(rest));
    expect((await log.lag(group, [t])).map((l) => l.records)).toEqual([0, 0, 0, 0]);
  });

  it('a hold (pauseAt) does not travel with its partition: the new owner reads it, the old owner keeps the hold of what it still owns', async () => {
    const t = unique('hold');
    const group = unique('group');
    const log = open();
    await log.ensureTopics([{ name: t, partitions: 2 }]);
    await log.produce([0, 1].flatMap((p) => [0, 1, 2].map((i) => ({ topic: t, partition: p, key: `k${p}`, value: Buffer.from(`p${p}-${i}`) }))));
    const a = await log.consumer(group, [t]);
    expect(await collect(a, 6)).toHaveLength(6);
    // Both partitions held at offset 1, offsets 1 committed: the records after 0 wait for a resume.
    for (const p of [0, 1]) a.pauseAt({ topic: t, partition: p, offset: 1 });
    await a.commit([], [0, 1].map((p) => ({ topic: t, partition: p, offset: 1 })));

    const b = await open().consumer(group, [t]);
    await until('the two members to own one partition each', () => partitionsOf(a).length === 1 && partitionsOf(b).length === 1, 15_000);
    const [kept] = partitionsOf(a);
    const [moved] = partitionsOf(b);
    // The new owner is not held: it reads the moved partition from the committed offset.
    expect((await collect(b, 2)).map((r) => r.value.toString())).toEqual([`p${moved}-1`, `p${moved}-2`]);
    // The old owner's hold of the partition it kept stands until it resumes it.
    expect(await a.poll(10, 300)).toEqual([]);
    a.resume(t, moved); // the hold of a partition it no longer owns: nothing to read
    a.resume(t, kept);
    expect((await collect(a, 2)).map((r) => r.value.toString())).toEqual([`p${kept}-1`, `p${kept}-2`]);
    expect(await a.poll(10, 300)).toEqual([]);
  });

  it('a member killed with SIGKILL: its partitions move to the survivor after the session timeout, the output holds every input once, the lag drains', async () => {
    const [input, output, group] = [unique('copy-in'), unique('copy-out'), unique('copy')];
    const log = open();
    await log.ensureTopics([{ name: input, partitions: 4 }, { name: output, partitions: 4 }]);
    let produced = 0;
    const produceSome = async (n: number) => {
      const records = Array.from({ length: n }, () => {
        const i = produced++;
        return { topic: input, key: `user-${i % 37}`, value: Buffer.from(`m-${i}`) };
      });
      await log.produce(records);
    };
    await produceSome(2_000);

    // Load keeps coming, before and while one member dies mid-stream.
    let producing = true;
    const producer = (async () => {
      while (producing) {
        await produceSome(20);
        await sleep(20);
      }
    })();
    const script = path.join(import.meta.dirname, 'kafka', 'group-member.ts');
    const members = ['a', 'b'].map((name) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, brokers.join(','), input, output, group], { cwd: repoRoot });
      children.push(child);
      const member = { name, child, owned: '', copied: 0, err: '' };
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          if (line.startsWith('owned ')) member.owned = line.slice(6);
          else if (line.startsWith('copied ')) member.copied += Number(line.slice(7));
        }
      });
      child.stderr.on('data', (chunk: Buffer) => (member.err += chunk.toString()));
      return member;
    });
    const [victim, survivor] = members;
    await until('both members to own two partitions and copy', () =>
      members.every((m) => m.owned.split(',').filter(Boolean).length === 2 && m.copied > 0), 60_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}: ${members.map((m) => `${m.name} owns "${m.owned}", copied ${m.copied}, stderr ${m.err}`).join('; ')}`);
      });

    await sleep(1_000);
    const copiedBefore = victim.copied;
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await until('the survivor to own all four partitions', () => survivor.owned === '0,1,2,3', 40_000);
    const takeoverMs = Date.now() - killedAt;
    producing = false;
    await producer;
    const inputs = produced;

    await until('the lag to drain', async () => {
      try {
        return (await log.lag(group, [input])).every((l) => l.records === 0);
      } catch {
        return false; // offsets of the killed member's open transaction, until the brokers abort it
      }
    }, 90_000, 250);
    const drainedMs = Date.now() - killedAt;
    // read_committed: the output shows up to the killed member's open transaction (if it died in
    // one) until the brokers abort it after the transaction timeout.
    let copies: string[] = [];
    await until('the whole output to be readable', async () => {
      copies = [];
      for (let p = 0; p < 4; p++) copies.push(...(await log.read(output, p, 0, 1_000_000)).map((r) => r.value.toString()));
      return copies.length >= inputs;
    }, 60_000, 250);
    const readableMs = Date.now() - killedAt;
    console.log(
      `kill → takeover: ${takeoverMs} ms; kill → lag 0: ${drainedMs} ms; kill → output readable: ${readableMs} ms; ` +
        `victim copied ${copiedBefore} before the kill, survivor ${survivor.copied} in all, ${inputs} inputs`,
    );
    expect(copiedBefore).toBeGreaterThan(0);
    expect(copies.length).toBe(inputs);
    expect(new Set(copies).size).toBe(inputs);
    expect(copies.sort()).toEqual(Array.from({ length: inputs }, (_, i) => `m-${i}`).sort());
  }, 240_000);

  it('a member the group removed joins again by itself: its old reads are refused, it reads again from the committed offsets', async () => {
    const t = unique('removed');
    const group = unique('group');
    const log = open();
    await log.ensureTopics([{ name: t, partitions: 2 }]);
    await log.produce([0, 1].flatMap((p) => [0, 1, 2].map((i) => ({ topic: t, partition: p, key: `k${p}`, value: Buffer.from(`p${p}-${i}`) }))));
    const consumer = await log.consumer(group, [t]);
    const read = await collect(consumer, 6);
    await consumer.commit([], read.filter((r) => r.offset === 0).map((r) => ({ topic: t, partition: r.partition, offset: 1 })));
    const before = (consumer as unknown as { membership: { generation?: { memberId: string } } }).membership.generation?.memberId;

    const admin = new Admin({ clientId: 'sluice-group-test', bootstrapBrokers: brokers });
    try {
      await admin.removeMembersFromConsumerGroup({ groupId: group });
    } finally {
      await admin.close();
    }
    const removedAt = Date.now();
    await until('the member to join again under a new member id', () => {
      const now = (consumer as unknown as { membership: { generation?: { memberId: string } } }).membership.generation?.memberId;
      return now !== undefined && now !== before && partitionsOf(consumer).length === 2;
    }, 15_000);
    console.log(`removed → member again: ${Date.now() - removedAt} ms`);
    await expect(consumer.commit([], read.map((r) => ({ topic: t, partition: r.partition, offset: r.offset + 1 })))).rejects.toBeInstanceOf(RebalanceError);
    await consumer.rewind();
    expect((await collect(consumer, 4)).map((r) => r.value.toString()).sort()).toEqual(['p0-1', 'p0-2', 'p1-1', 'p1-2']);
  });

  it('a zombie, a member the group has moved past, cannot commit: the coordinator refuses its generation and nothing of it is visible', async () => {
    const [input, output, group] = [unique('zin'), unique('zout'), unique('zgroup')];
    const log = open();
    await log.ensureTopics([{ name: input, partitions: 2 }, { name: output, partitions: 1 }]);
    await log.produce(Array.from({ length: 4 }, (_, i) => ({ topic: input, partition: i % 2, key: 'k', value: Buffer.from(`v${i}`) })));
    // Its next heartbeat is 15 s away: it will not learn in time that the group removed it.
    const zombieLog = open({ group: { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 15_000, rebalanceTimeoutMs: 30_000 } });
    const zombie = await zombieLog.consumer(group, [input]);
    const polled = await collect(zombie, 4);
    expect(polled).toHaveLength(4);

    // The group removes it (as it does after a missed session) and a successor takes over.
    const admin = new Admin({ clientId: 'sluice-group-test', bootstrapBrokers: brokers });
    try {
      await admin.removeMembersFromConsumerGroup({ groupId: group });
    } finally {
      await admin.close();
    }
    const successor = await open().consumer(group, [input]);
    const again = await collect(successor, 4);
    expect(again.map((r) => r.value.toString()).sort()).toEqual(['v0', 'v1', 'v2', 'v3']);
    await successor.commit(again.map((r) => ({ topic: output, partition: 0, key: 'k', value: Buffer.from(`by-successor-${r.value.toString()}`) })), nextOffsets(again));

    // The zombie still believes in its generation; the coordinator does not.
    expect(partitionsOf(zombie)).toEqual([0, 1]);
    const refused = await zombie
      .commit(polled.map((r) => ({ topic: output, partition: 0, key: 'k', value: Buffer.from(`by-zombie-${r.value.toString()}`) })), nextOffsets(polled))
      .then(() => undefined, (err: unknown) => err);
    expect(refused).toBeInstanceOf(RebalanceError);
    const cause = (refused as Error).cause as { findBy?: (k: string, v: string) => unknown };
    expect(Boolean(cause?.findBy?.('apiId', 'UNKNOWN_MEMBER_ID') ?? cause?.findBy?.('apiId', 'ILLEGAL_GENERATION'))).toBe(true);

    await sleep(500);
    expect((await log.read(output, 0, 0, 100)).map((r) => r.value.toString()).sort()).toEqual(
      ['v0', 'v1', 'v2', 'v3'].map((v) => `by-successor-${v}`),
    );
    expect(await log.committed(group, input)).toEqual([2, 2]);
  });
});
