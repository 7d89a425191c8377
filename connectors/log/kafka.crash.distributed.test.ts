/**
 * Crash test of the Kafka log on a 3-broker cluster (replication factor 3, min.insync.replicas 2):
 * while sessions produce with acks=all and a stage copies input to output in transactions, one
 * broker is killed with SIGKILL and later restarted. Afterwards every acknowledged record is
 * readable exactly once at the position it was acknowledged with, no record appears twice, and
 * the stage's output holds each input record exactly once (aborted transactions leave nothing).
 *
 * The test reshapes the stack itself: it starts the 3-broker cluster (`ops/stack up --brokers 3
 * kafka`; ports 19092–19094) in place of the 1-broker one and puts back what ran before.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaLog } from './kafka.ts';
import type { LogRecord, RecordPosition } from './log.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const brokers = ['127.0.0.1:19092', '127.0.0.1:19093', '127.0.0.1:19094'];
const stateDir = process.env.SLUICE_STACK_STATE ?? path.join(os.homedir(), '.local/state/sluice-stack');
const stack = (...args: string[]) => execFileSync(path.join(repoRoot, 'ops/stack'), args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function runningBrokers(): number {
  try {
    const status = stack('status', 'kafka');
    return Number(/up \((\d) broker/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

describe('Kafka log, 3 brokers: kill -9 of a broker under load', () => {
  let before = 0;
  beforeAll(() => {
    before = runningBrokers();
    if (before !== 3) {
      stack('down', 'kafka');
      stack('up', '--brokers', '3', 'kafka');
    }
  }, 240_000);
  afterAll(() => {
    if (before === 3) return;
    stack('down', 'kafka');
    if (before === 1) stack('up', 'kafka');
  }, 240_000);

  it('every acknowledged record is stored once where it was acknowledged; the stage output holds each input once', async () => {
    const log = new KafkaLog({ brokers, clientId: 'sluice-crash-test', requestTimeoutMs: 15_000 });
    const id = Date.now().toString(36);
    const [input, output] = [`crash-in-${id}`, `crash-out-${id}`];
    await log.ensureTopics([
      { name: input, partitions: 6, replicationFactor: 3, minInsyncReplicas: 2 },
      { name: output, partitions: 6, replicationFactor: 3, minInsyncReplicas: 2 },
    ]);

    // Producers: 8 sessions, each waiting for its acknowledgement before the next record; a
    // failed call is a 4xx to the sender (not acknowledged) and the session goes on with a new record.
    let stop = false;
    const acked = new Map<string, RecordPosition>();
    let failures = 0;
    let next = 0;
    const sessions = Array.from({ length: 8 }, async (_, s) => {
      while (!stop) {
        const value = `msg-${next++}`;
        try {
          const [position] = await log.produce([{ topic: input, key: `user-${s}-${next % 50}`, value: Buffer.from(value) }]);
          acked.set(value, position);
        } catch {
          failures++;
          await sleep(100);
        }
      }
    });

    // The stage: input → output, one transaction per batch; on failure rewind and try again.
    const stage = await log.consumer(`crash-stage-${id}`, [input]);
    let stageStop = false;
    let aborts = 0;
    const stageRun = (async () => {
      while (!stageStop) {
        let batch: LogRecord[] = [];
        try {
          batch = await stage.poll(200, 200);
          if (batch.length === 0) continue;
          const offsets = new Map<number, number>();
          for (const r of batch) offsets.set(r.partition, r.offset + 1);
          await stage.commit(
            batch.map((r) => ({ topic: output, key: r.key, value: r.value })),
            [...offsets].map(([partition, offset]) => ({ topic: input, partition, offset })),
          );
        } catch {
          aborts++;
          await stage.rewind().catch(() => undefined);
          await sleep(200);
        }
      }
    })();

    await sleep(3_000);
    const victim = 1 + Math.floor(Math.random() * 3);
    const pidFile = path.join(stateDir, 'kafka/brokers-3', `node-${victim}`, 'kafka.pid');
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    const ackedBeforeKill = acked.size;
    process.kill(pid, 'SIGKILL');
    await sleep(15_000); // the controller fences the dead broker (broker.session.timeout.ms 9 s)
    const ackedWhileDown = acked.size - ackedBeforeKill;
    stack('up', '--brokers', '3', 'kafka'); // restarts the killed node only; waits until all three answer
    await sleep(3_000);
    stop = true;
    await Promise.all(sessions);

    // Let the stage drain what was acknowledged, then stop it.
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const lag = await log.lag(stage.group, [input]);
      if (lag.every((l) => l.records === 0)) break;
      await sleep(500);
    }
    stageStop = true;
    await stageRun;
    await stage.close();
    await log.close();

    // Count with a fresh client.
    const reader = new KafkaLog({ brokers, clientId: 'sluice-crash-check' });
    try {
      const stored = new Map<string, string>(); // "p:offset" → value
      const inputValues: string[] = [];
      const outputValues: string[] = [];
      for (let p = 0; p < 6; p++) {
        for (const r of await reader.read(input, p, 0, 1_000_000)) {
          stored.set(`${p}:${r.offset}`, r.value.toString());
          inputValues.push(r.value.toString());
        }
        for (const r of await reader.read(output, p, 0, 1_000_000)) outputValues.push(r.value.toString());
      }
      expect(acked.size).toBeGreaterThan(100);
      expect(ackedWhileDown).toBeGreaterThan(0);
      for (const [value, { partition, offset }] of acked) expect(stored.get(`${partition}:${offset}`)).toBe(value);
      expect(new Set(inputValues).size).toBe(inputValues.length);
      expect(new Set(outputValues).size).toBe(outputValues.length);
      expect([...outputValues].sort()).toEqual([...inputValues].sort());
      console.log(
        `crash test: broker ${victim} killed; ${acked.size} acknowledged (${ackedWhileDown} while it was down), ` +
          `${failures} refused, ${inputValues.length} stored, ${outputValues.length} through the stage, ${aborts} stage retries`,
      );
    } finally {
      await reader.close();
    }
  }, 240_000);
});
