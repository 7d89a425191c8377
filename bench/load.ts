/**
 * The load generators, all Python from `../shared/bench/` (run in place, outputs here):
 * `smtp_load.py` (through `timed-smtp-load.py`, which also prints when its clock started) and
 * our `paced-send.py` (a fixed rate).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './proc.ts';

const HERE = resolve(fileURLToPath(import.meta.url), '..');

export interface LoadEnv {
  /** `../shared/bench`: smtp_load.py, gen_messages.py, benchlib.py. */
  readonly sharedDir: string;
  /** Generated messages are kept here between runs (smtp_load.py `--cache-dir`). */
  readonly cacheDir: string;
  readonly users: number;
  readonly rcptPattern: string;
}

export interface LoadSpec {
  readonly size: string;
  readonly concurrency: number;
  readonly messages: number;
}

export interface Latency {
  readonly count: number;
  readonly p50_ms?: number;
  readonly p99_ms?: number;
}

/** The fields of smtp_load.py's JSON record that the bench reads (the whole record is kept). */
export interface SmtpLoadRecord {
  readonly accepted: number;
  readonly failed: number;
  readonly errors_sample: string[];
  readonly send_s: number;
  readonly accepted_per_s: number;
  readonly data_latency: Latency;
  readonly txn_latency: Latency;
  readonly cpu_send: { server_cpu_s?: number; machine_busy_cores?: number; client_cores?: number };
  readonly cpu_total?: { server_cpu_s?: number; machine_busy_cores?: number; wall_s?: number };
  readonly delivered_s?: number;
  readonly delivered_per_s?: number;
  readonly delivered_error?: string;
}

export interface LoadResult {
  readonly record: SmtpLoadRecord;
  /** CLOCK_MONOTONIC seconds when smtp_load.py started its clock. */
  readonly tStart: number;
  readonly stdout: string;
}

const pythonEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };

/** smtp_load.py against one SMTP port; `extra` e.g. `--wait-delivered --purge-before …`. */
export async function smtpLoad(env: LoadEnv, port: number, spec: LoadSpec, extra: readonly string[], label: string): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const jsonOut = join(dir, 'run.jsonl');
  try {
    const args = [
      join(HERE, 'timed-smtp-load.py'), env.sharedDir,
      '--host', '127.0.0.1', '--port', String(port),
      '--rcpt-pattern', env.rcptPattern, '--users', String(env.users),
      '-n', String(spec.messages), '-c', String(spec.concurrency), '--size', spec.size,
      '--cache-dir', env.cacheDir, '--label', label, '--json-out', jsonOut, ...extra,
    ];
    const done = await run('python3', args, { env: pythonEnv });
    let record: SmtpLoadRecord;
    try {
      record = JSON.parse(readFileSync(jsonOut, 'utf8').trim().split('\n').pop()!) as SmtpLoadRecord;
    } catch {
      throw new Error(`smtp_load.py wrote no record (exit ${done.code}):\n${done.stdout}\n${done.stderr}`);
    }
    const m = /^t_start_monotonic (\S+)$/m.exec(done.stdout);
    if (!m) throw new Error(`smtp_load.py: no start time in its output:\n${done.stdout}`);
    return { record, tStart: Number(m[1]), stdout: done.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PacedResult {
  readonly t_start_monotonic: number;
  readonly accepted: number;
  readonly failed: number;
  readonly errors_sample: string[];
  readonly send_s: number;
  readonly accepted_per_s: number;
  readonly target_rate: number;
  readonly late: number;
  readonly txn_latency: Latency;
}

/** paced-send.py: `spec.messages` at `rate` msgs/s over `spec.concurrency` connections. */
export async function pacedSend(env: LoadEnv, port: number, spec: LoadSpec, rate: number): Promise<PacedResult> {
  const args = [
    join(HERE, 'paced-send.py'), env.sharedDir, '--port', String(port), '--rate', rate.toFixed(2),
    '-n', String(spec.messages), '-c', String(spec.concurrency), '--size', spec.size,
    '--cache-dir', env.cacheDir, '--rcpt-pattern', env.rcptPattern, '--users', String(env.users),
  ];
  const done = await run('python3', args, { env: pythonEnv });
  const line = done.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as PacedResult;
  } catch {
    throw new Error(`paced-send.py failed (exit ${done.code}):\n${done.stdout}\n${done.stderr}`);
  }
}
