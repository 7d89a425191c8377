/**
 * A scanning engine (clamd, rspamd) as a child process of the tests: its own process group, so
 * stopping it ends its workers too, and killed when the test process exits even if a test forgot.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface EngineProcess {
  readonly child: ChildProcess;
  /** Everything it wrote on stdout and stderr, for error messages. */
  output(): string;
  /** SIGTERM to the group, SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
  /** SIGKILL to the group at once (the "engine crashed" case). */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) signalGroup(child, 'SIGKILL');
});

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export function spawnEngine(command: string, args: readonly string[]): EngineProcess {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      output += `\n${String(err)}`;
      running.delete(child);
      resolve();
    });
  });
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null || !running.has(child);
  return {
    child,
    output: () => output,
    async stop() {
      if (gone()) return exited;
      signalGroup(child, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      signalGroup(child, 'SIGKILL');
      await exited;
    },
  };
}

/** Polls `probe` until it resolves true; fails with the engine's output if it exits or time runs out. */
export async function waitReady(engine: EngineProcess, what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (engine.child.exitCode !== null || engine.child.signalCode !== null) {
      throw new Error(`${what} exited before it was ready:\n${engine.output()}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > until) {
      await engine.stop();
      throw new Error(`${what} not ready after ${timeoutMs} ms:\n${engine.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
