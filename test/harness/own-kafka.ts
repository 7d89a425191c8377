/**
 * A Kafka cluster of a test's own, beside the shared stack: `ops/stack up --brokers N kafka` with
 * free ports (`SLUICE_KAFKA_PORT0`, `SLUICE_KAFKA_CONTROLLER_PORT0`) and a state folder of its own
 * (`SLUICE_STACK_STATE`), so brokers can be killed without disturbing anyone else's tests. With 3
 * brokers the topics get replication factor 3 and `min.insync.replicas` 2 (the brokers' defaults,
 * ops/engines/kafka.sh). `stop()` runs `ops/stack down --purge kafka` and deletes the folder; if the
 * test process exits without it, an exit hook SIGKILLs the brokers.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './server.ts';

const run = promisify(execFile);

export interface OwnKafka {
  /** Bootstrap list, `127.0.0.1:port` of every broker. */
  readonly brokers: readonly string[];
  /** Node ids 1..N. */
  readonly nodes: readonly number[];
  /** The pid of node `id`, or undefined when it is not running. */
  pid(id: number): number | undefined;
  /** SIGKILL of node `id`; resolves once the process is gone. */
  kill(id: number): Promise<void>;
  /** `ops/stack up` again: starts the nodes that are down and waits until every broker answers. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A base port with `count` free ports from it and `count` free from base + 100. */
async function freeBase(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const ports = Array.from({ length: count }, (_, i) => [base + i, base + 100 + i]).flat();
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no free ports for a Kafka cluster');
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function startOwnKafka(brokerCount: 1 | 3 = 3): Promise<OwnKafka> {
  const state = mkdtempSync(join(tmpdir(), 'sluice-own-kafka-'));
  const base = await freeBase(brokerCount);
  const env = { ...process.env, SLUICE_STACK_STATE: state, SLUICE_KAFKA_PORT0: String(base), SLUICE_KAFKA_CONTROLLER_PORT0: String(base + 100) };
  const stack = (...args: string[]) => run(join(ROOT, 'ops/stack'), args, { cwd: ROOT, env, timeout: 300_000, maxBuffer: 1 << 24 });
  const nodes = Array.from({ length: brokerCount }, (_, i) => i + 1);
  const pidFile = (id: number) => join(state, 'kafka', `brokers-${brokerCount}`, `node-${id}`, 'kafka.pid');
  const pid = (id: number) => {
    const f = pidFile(id);
    if (!existsSync(f)) return undefined;
    const p = Number(readFileSync(f, 'utf8').trim());
    return p > 0 && alive(p) ? p : undefined;
  };
  // If the test process ends without stop() (a crash, a timeout), the brokers must not outlive it.
  const onExit = () => {
    for (const id of nodes) {
      const p = pid(id);
      if (p) process.kill(p, 'SIGKILL');
    }
    rmSync(state, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  try {
    await stack('up', '--brokers', String(brokerCount), 'kafka');
  } catch (error) {
    onExit();
    process.off('exit', onExit);
    throw new Error(`ops/stack up --brokers ${brokerCount} kafka (ports ${base}…, ${base + 100}…) failed: ${(error as { stderr?: string }).stderr ?? String(error)}`);
  }
  return {
    brokers: nodes.map((id) => `127.0.0.1:${base + id - 1}`),
    nodes,
    pid,
    async kill(id) {
      const p = pid(id);
      if (!p) return;
      process.kill(p, 'SIGKILL');
      while (alive(p)) await new Promise((r) => setTimeout(r, 20));
    },
    async restart() {
      await stack('up', '--brokers', String(brokerCount), 'kafka');
    },
    async stop() {
      try {
        await stack('down', '--purge', 'kafka');
      } finally {
        onExit();
        process.off('exit', onExit);
      }
    },
  };
}
