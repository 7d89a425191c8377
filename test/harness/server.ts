/**
 * End-to-end test harness: runs `sluice` as a child process (the real CLI, real sockets), as a
 * user would, on a temporary data folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDns, type RunningDns } from './dns.ts';
import { engineEnv } from './engines.ts';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const SLUICE = join(ROOT, 'bin/sluice.js');

export function tempDir(prefix = 'sluice-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function sluice(args: readonly string[], options: { dataDir: string; stdin?: string; env?: Record<string, string> }): Promise<CliResult> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [SLUICE, ...args], {
      cwd: ROOT,
      env: { ...process.env, SLUICE_DATA_DIR: options.dataDir, SLUICE_LOG_LEVEL: 'warn', ...engineEnv(options.dataDir), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', rej);
    child.once('close', (code) => res({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

export interface RunningSluice {
  readonly child: ChildProcess;
  /** The roles of the `ready` line (`--roles`: ingress, stages, access). */
  readonly roles: readonly string[];
  /** The listeners of the `ready` line, `host:port`; the ports below are NaN for a listener this process does not run. */
  readonly listeners: Readonly<Record<string, string>>;
  readonly smtpPort: number;
  readonly httpPort: number;
  readonly imapPort: number;
  readonly imapsPort: number;
  readonly pop3Port: number;
  readonly pop3sPort: number;
  readonly submissionPort: number;
  readonly submissionsPort: number;
  readonly stderr: () => string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

let emptyDns: Promise<RunningDns> | undefined;
/**
 * DNS for servers under test unless a test gives its own (`SLUICE_DNS_SERVERS`): a loopback
 * server that knows no names, so sender authentication answers at once and never asks the internet.
 */
function loopbackDns(): Promise<RunningDns> {
  emptyDns ??= startDns({});
  return emptyDns;
}

export async function startSluice(options: { dataDir: string; smtpPort?: number; env?: Record<string, string>; args?: readonly string[] }): Promise<RunningSluice> {
  const smtpPort = options.smtpPort ?? 0;
  const dnsServers = options.env?.SLUICE_DNS_SERVERS ?? (await loopbackDns()).address;
  // For benches: a V8 CPU profile of each thread of the server, written on exit (SLUICE_SERVE_CPU_PROF=DIR),
  // and other options for its node (SLUICE_SERVE_NODE_ARGS, space-separated, e.g. --perf-basic-prof).
  const profile = [
    ...(process.env.SLUICE_SERVE_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SLUICE_SERVE_CPU_PROF}`] : []),
    ...(process.env.SLUICE_SERVE_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
  ];
  const child = spawn(process.execPath, [...profile, SLUICE, 'serve', ...(options.args ?? [])], {
    cwd: ROOT,
    env: {
      ...process.env,
      SLUICE_DATA_DIR: options.dataDir,
      SLUICE_LISTEN_SMTP: `127.0.0.1:${smtpPort}`,
      SLUICE_LISTEN_HTTP: '127.0.0.1:0',
      SLUICE_LISTEN_IMAP: '127.0.0.1:0',
      SLUICE_LISTEN_IMAPS: '127.0.0.1:0',
      SLUICE_LISTEN_POP3: '127.0.0.1:0',
      SLUICE_LISTEN_POP3S: '127.0.0.1:0',
      SLUICE_LISTEN_SUBMISSION: '127.0.0.1:0',
      SLUICE_LISTEN_SUBMISSIONS: '127.0.0.1:0',
      SLUICE_LOG_LEVEL: 'warn',
      SLUICE_HOSTNAME: 'mx.sluice.test',
      SLUICE_DNS_SERVERS: dnsServers,
      ...engineEnv(options.dataDir),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const ready = await new Promise<{ roles: string[] } & Record<string, string>>((res, rej) => {
    let out = '';
    // On the distributed engines a first start also makes the keyspace, the index and the topics.
    const startS = process.env.SLUICE_CONFIG || options.args?.includes('--config') ? 180 : 30;
    // A server that did not start is not left running behind the test.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`sluice did not start in ${startS} s:\n${stderr}`));
    }, startS * 1000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ready (\{.*\})$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        res(JSON.parse(m[1]) as { roles: string[] } & Record<string, string>);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`sluice exited with ${code} before ready:\n${stderr}`));
    });
  });
  const { roles, ...listeners } = ready;
  const port = (hostPort: string | undefined) => (hostPort === undefined ? NaN : Number(hostPort.slice(hostPort.lastIndexOf(':') + 1)));
  return {
    child,
    roles,
    listeners,
    smtpPort: port(listeners.smtp),
    httpPort: port(listeners.http),
    imapPort: port(listeners.imap),
    imapsPort: port(listeners.imaps),
    pop3Port: port(listeners.pop3),
    pop3sPort: port(listeners.pop3s),
    submissionPort: port(listeners.submission),
    submissionsPort: port(listeners.submissions),
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Makes domain and users through the CLI. */
export async function provision(dataDir: string, domain: string, users: readonly string[], password = 'secret'): Promise<void> {
  const d = await sluice(['domain', 'add', domain], { dataDir });
  if (d.code !== 0) throw new Error(`domain add failed: ${d.stderr}`);
  for (const u of users) {
    const r = await sluice(['user', 'add', u, '--password-stdin'], { dataDir, stdin: `${password}\n` });
    if (r.code !== 0) throw new Error(`user add ${u} failed: ${r.stderr}`);
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
