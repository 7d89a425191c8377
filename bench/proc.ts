/** Child processes and CPU accounting for the benchmark (Linux `/proc`). */
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; `echo` copies its output to ours as it comes. */
export function run(command: string, args: readonly string[], options: { echo?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (options.echo) process.stdout.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (options.echo) process.stderr.write(d);
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs a script that may start daemons (which keep any pipe we give them open forever): its
 * output is appended to `logFile`, and we wait for its exit only.
 */
export function runDetached(command: string, args: readonly string[], logFile: string): Promise<number | null> {
  const fd = openSync(logFile, 'a');
  return new Promise<number | null>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  }).finally(() => closeSync(fd));
}

/** Seconds on CLOCK_MONOTONIC (the clock of Python's time.monotonic()). */
export function monotonicSeconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

let clockTicks: number | undefined;

/** CPU seconds (user + system, all threads, plus reaped children) used so far by process `pid`. */
export function processCpuSeconds(pid: number): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm) ": state is field 3; utime, stime, cutime, cstime are fields 14..17.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(rest[i]), 0);
  return ticks / clockTicks;
}

export function commandExists(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
