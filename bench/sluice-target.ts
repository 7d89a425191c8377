/**
 * Sluice under the benchmark: a fresh data folder, the bench domain and users written straight
 * into its mail store (`mail.db`, or on the distributed engines a keyspace of its own), `sluice
 * serve` as a child process, and one measured run: the load in flight while `/metrics` is polled
 * until the index stage has indexed every accepted message.
 *
 * On the distributed engines (`engines.configFile`, e.g. ops/cluster.example.yaml) each fresh
 * server gets its own keyspace, index, bucket and topic prefix (test/harness/engines.ts), dropped
 * at stop (the topics stay on the cluster, as the tests' do), and the engines' processes (pid
 * files of `ops/stack`) are measured too: their CPU during the run goes into `engineCpuSeconds`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SqliteMailStore } from '../connectors/store/sqlite.ts';
import type { MailStore } from '../connectors/store/store.ts';
import { hashPassword } from '../ops/password.ts';
import { dropNamespaces, namespaceEnv, openStoreFor } from '../test/harness/engines.ts';
import { ROOT, startSluice, type RunningSluice } from '../test/harness/server.ts';
import { bucketDelta, counterValue, histogramBuckets, histogramQuantile, type Bucket } from './prom.ts';
import { monotonicSeconds, processCpuSeconds } from './proc.ts';

const INDEXED = { name: 'sluice_stage_records_total', labels: { stage: 'index', outcome: 'ok' } };
const DEAD = { name: 'sluice_stage_records_total', labels: { outcome: 'dead_letter' } };
const TO_SEARCHABLE = { name: 'sluice_since_received_seconds', labels: { stage: 'index' } };

export interface SluiceOptions {
  readonly domain: string;
  readonly users: number;
  readonly password: string;
  /** Keep the data folder after stop (for a look inside). */
  readonly keep?: boolean;
  /** Run on the distributed engines of this config (relative to the repository); unset = the embedded default. */
  readonly configFile?: string;
}

/** The engine processes `ops/stack` started (its pid files), by name; those that run now. */
export function stackPids(stateDir = process.env.SLUICE_STACK_STATE ?? join(homedir(), '.local/state/sluice-stack')): Record<string, number> {
  const files: Record<string, string> = {
    kafka: 'kafka/brokers-1/node-1/kafka.pid',
    cassandra: 'cassandra/cassandra.pid',
    opensearch: 'opensearch/opensearch.pid',
    s3: 's3/versitygw.pid',
  };
  const pids: Record<string, number> = {};
  for (const [name, file] of Object.entries(files)) {
    const path = join(stateDir, file);
    if (!existsSync(path)) continue;
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (pid > 0 && existsSync(`/proc/${pid}`)) pids[name] = pid;
  }
  return pids;
}

/** What one run measured on the server side. */
export interface ServerSide {
  /** Messages the index stage indexed during the run (ok outcome). */
  readonly indexed: number;
  /** CLOCK_MONOTONIC when the poll first saw every expected message indexed; undefined if never. */
  readonly tIndexed?: number;
  /** Server CPU seconds from just before the load until tIndexed (or the end of waiting). */
  readonly cpuSeconds: number;
  /** Records dead-lettered by any stage during the run. */
  readonly deadLettered: number;
  /** CPU seconds of each engine process (distributed runs) over the same interval as `cpuSeconds`. */
  readonly engineCpuSeconds: Readonly<Record<string, number>>;
  /** 250 → searchable, bucket estimates (seconds). */
  readonly toSearchable: { readonly count: number; readonly p50: number; readonly p99: number; readonly buckets: Bucket[] };
}

export class BenchSluice {
  private constructor(
    private readonly server: RunningSluice,
    readonly dataDir: string,
    private readonly keep: boolean,
    private readonly distributed: boolean,
    private readonly engines: Readonly<Record<string, number>>,
  ) {}

  /** `env`: more SLUICE_* settings for the server (e.g. the scanners' addresses). */
  static async start(options: SluiceOptions, env: Record<string, string> = {}): Promise<BenchSluice> {
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-bench-data-'));
    const configFile = options.configFile && resolve(ROOT, options.configFile);
    const store: MailStore = configFile ? await openStoreFor(dataDir, configFile) : new SqliteMailStore({ path: join(dataDir, 'mail.db') });
    try {
      await store.addDomain(options.domain);
      const hash = await hashPassword(options.password); // one scrypt hash for all: same password
      for (let i = 1; i <= options.users; i++) await store.addUser(`u${i}@${options.domain}`, hash);
    } finally {
      await store.close();
    }
    // `--config` (not SLUICE_CONFIG): the harness then allows a first start on the engines its minutes.
    const server = configFile
      ? await startSluice({ dataDir, env: { ...namespaceEnv(dataDir, configFile), ...env }, args: ['--config', configFile] })
      : await startSluice({ dataDir, env });
    return new BenchSluice(server, dataDir, options.keep ?? false, Boolean(configFile), configFile ? stackPids() : {});
  }

  get smtpPort(): number {
    return this.server.smtpPort;
  }
  get pid(): number {
    return this.server.child.pid!;
  }
  get pidFile(): string {
    return join(this.dataDir, 'serve.pid');
  }
  stderr(): string {
    return this.server.stderr();
  }

  async scrape(): Promise<string> {
    if (this.server.child.exitCode !== null) throw new Error(`sluice exited (${this.server.child.exitCode}):\n${this.stderr().slice(-2000)}`);
    const res = await fetch(`http://127.0.0.1:${this.server.httpPort}/metrics`);
    if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
    return res.text();
  }

  /**
   * Runs `load` while polling `/metrics` every `pollMs`, until the index stage has indexed as
   * many messages as the load got accepted (`expected` until the load reports its count), or
   * `drainTimeoutS` after the load ended.
   */
  async measure<T extends { accepted: number }>(load: () => Promise<T>, expected: number, pollMs: number, drainTimeoutS: number): Promise<{ load: T; server: ServerSide }> {
    const before = await this.scrape();
    const indexed0 = counterValue(before, INDEXED.name, INDEXED.labels);
    const dead0 = counterValue(before, DEAD.name, DEAD.labels);
    const buckets0 = histogramBuckets(before, TO_SEARCHABLE.name, TO_SEARCHABLE.labels);
    const cpu0 = processCpuSeconds(this.pid);
    const engineCpu = () => Object.fromEntries(Object.entries(this.engines).map(([name, pid]) => [name, processCpuSeconds(pid)]));
    const engines0 = engineCpu();
    let engines1 = engines0;

    let target = expected;
    let loadEnd: number | undefined;
    let failure: unknown;
    const loading = load().then(
      (r) => {
        target = r.accepted;
        loadEnd = monotonicSeconds();
        return r;
      },
      (e: unknown) => {
        failure = e;
        loadEnd = monotonicSeconds();
        return undefined;
      },
    );
    let tIndexed: number | undefined;
    let cpu1 = cpu0;
    let indexed = 0;
    for (;;) {
      const text = await this.scrape();
      const now = monotonicSeconds();
      indexed = counterValue(text, INDEXED.name, INDEXED.labels) - indexed0;
      if (tIndexed === undefined && target > 0 && indexed >= target) {
        tIndexed = now;
        cpu1 = processCpuSeconds(this.pid);
        engines1 = engineCpu();
      }
      if (failure !== undefined) break; // the load failed: nothing to wait for
      if (loadEnd !== undefined && (tIndexed !== undefined || target === 0 || now > loadEnd + drainTimeoutS)) break;
      await new Promise((r) => setTimeout(r, pollMs));
    }
    const result = await loading;
    if (failure !== undefined || result === undefined) throw failure;
    if (tIndexed === undefined) {
      cpu1 = processCpuSeconds(this.pid);
      engines1 = engineCpu();
    }
    const after = await this.scrape();
    const buckets = bucketDelta(buckets0, histogramBuckets(after, TO_SEARCHABLE.name, TO_SEARCHABLE.labels));
    return {
      load: result,
      server: {
        indexed,
        tIndexed,
        cpuSeconds: cpu1 - cpu0,
        deadLettered: counterValue(after, DEAD.name, DEAD.labels) - dead0,
        engineCpuSeconds: Object.fromEntries(Object.keys(engines0).map((name) => [name, engines1[name] - engines0[name]])),
        toSearchable: {
          count: buckets.length ? buckets[buckets.length - 1].count : 0,
          p50: histogramQuantile(0.5, buckets),
          p99: histogramQuantile(0.99, buckets),
          buckets,
        },
      },
    };
  }

  async stop(): Promise<void> {
    await this.server.stop();
    // The keyspace, index and bucket of this server (the harness remembers those it named).
    if (this.distributed && !this.keep) await dropNamespaces();
    if (!this.keep) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
