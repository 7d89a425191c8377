/**
 * `npm run bench`: Sluice beside Postfix + Dovecot under the same SMTP load, interleaved in one
 * run (Sluice c=1, Postfix c=1, Sluice c=4, …, repeated), then Sluice paced at half its peak
 * end-to-end rate. Writes bench-results/bench-<stamp>.{jsonl,md} and prints the tables.
 * Options: --messages 2000 --reps 3 --sizes 5k,50k --concurrency 1,4,16 --only sluice|postfix
 * --no-half-peak --warmup 200 --poll-ms 50 --scanners off|on|off,on (see bench/README.md). With `--scanners
 * off,on` each Sluice run is made twice, without and with a real clamd and rspamd (test/harness/),
 * and a table compares the two. `--stack embedded|distributed|embedded,distributed` runs Sluice on the
 * embedded default, on the engines of `--cluster-config` (default ops/cluster.example.yaml, the
 * stack `ops/stack up` starts; each run in a keyspace, index, bucket and topic prefix of its own),
 * or both, one after the other for each load; a table puts them side by side and the capacity
 * arithmetic for the seed's load is made from the distributed runs' per-message CPU (bench/capacity.ts).
 * `--suite imap` runs the IMAP bench instead (bench/imap.ts, its own options); `--suite blob` the blob
 * store bench (bench/blob.ts: S3 beside the embedded store); `--suite send` the sending flow beside a Postfix relay
 * (bench/send.ts); `--suite smtp` is the default.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Anchor, ANCHOR_IMAP_PORT, ANCHOR_PIDFILES, ANCHOR_SMTP_PORT } from './anchor.ts';
import { pacedSend, smtpLoad, type LoadEnv, type LoadSpec } from './load.ts';
import { halfPeakTable, loadTable, median, scannersTable, stacksTable, type RunRecord, type Server } from './report.ts';
import { capacityReport } from './capacity.ts';
import { startClamd, type RunningClamd } from '../test/harness/clamd.ts';
import { startRspamd, type RunningRspamd } from '../test/harness/rspamd.ts';
import { BenchSluice, type ServerSide } from './sluice-target.ts';
import { imapMain } from './imap.ts';
import { blobMain } from './blob.ts';
import { sendMain } from './send.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
/** `--suite smtp|imap|blob|send` (taken out of the arguments; the rest go to the suite). */
const argv = process.argv.slice(2);
const suiteAt = argv.findIndex((a) => a === '--suite' || a.startsWith('--suite='));
const suite = suiteAt < 0 ? 'smtp' : argv[suiteAt].includes('=') ? argv[suiteAt].slice('--suite='.length) : argv[suiteAt + 1];
if (suiteAt >= 0) argv.splice(suiteAt, argv[suiteAt].includes('=') ? 1 : 2);
if (suite !== 'smtp' && suite !== 'imap' && suite !== 'blob' && suite !== 'send') throw new Error(`--suite: smtp, imap, blob or send, not ${suite}`);
const { values: opt } = parseArgs({
  args: suite === 'smtp' ? argv : [],
  options: {
    messages: { type: 'string', default: '2000' },
    reps: { type: 'string', default: '3' },
    sizes: { type: 'string', default: '5k,50k' },
    concurrency: { type: 'string', default: '1,4,16' },
    only: { type: 'string' },
    'no-half-peak': { type: 'boolean', default: false },
    'half-peak-connections': { type: 'string', default: '4' },
    warmup: { type: 'string', default: '200' },
    'poll-ms': { type: 'string', default: '50' },
    'drain-timeout': { type: 'string', default: '180' },
    shared: { type: 'string', default: resolve(ROOT, '../shared/bench') },
    'cache-dir': { type: 'string', default: '/var/tmp/bench-msg-cache' },
    out: { type: 'string', default: join(ROOT, 'bench-results') },
    keep: { type: 'boolean', default: false },
    scanners: { type: 'string', default: 'off' },
    stack: { type: 'string', default: 'embedded' },
    'cluster-config': { type: 'string', default: 'ops/cluster.example.yaml' },
  },
});

const messages = Number(opt.messages);
const reps = Number(opt.reps);
const sizes = opt.sizes.split(',');
const concurrencies = opt.concurrency.split(',').map(Number);
const withSluice = opt.only !== 'postfix';
const withPostfix = opt.only !== 'sluice';
const pollMs = Number(opt['poll-ms']);
const scannerModes = opt.scanners.split(',').map((m) => {
  if (m !== 'off' && m !== 'on') throw new Error(`--scanners: off, on or off,on, not ${opt.scanners}`);
  return m === 'on';
});
const stacks = opt.stack.split(',').map((m) => {
  if (m !== 'embedded' && m !== 'distributed') throw new Error(`--stack: embedded, distributed or embedded,distributed, not ${opt.stack}`);
  return m;
});
if (stacks.includes('distributed') && scannerModes.includes(true)) throw new Error('--stack distributed runs with --scanners off only');
const drainS = Number(opt['drain-timeout']);
const env: LoadEnv = { sharedDir: opt.shared, cacheDir: opt['cache-dir'], users: 100, rcptPattern: 'u{n}@bench.test' };
const SLUICE = { domain: 'bench.test', users: 100, password: 'pw', keep: opt.keep };

const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
mkdirSync(opt.out, { recursive: true });
const jsonlPath = join(opt.out, `bench-${stamp}.jsonl`);
const mdPath = join(opt.out, `bench-${stamp}.md`);
const records: RunRecord[] = [];
let current: BenchSluice | undefined;
/** clamd and rspamd for the `--scanners on` runs: one of each for the whole bench. */
let scanners: { clamd: RunningClamd; rspamd: RunningRspamd } | undefined;

function log(line: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

function keep(r: RunRecord): void {
  records.push(r);
  appendFileSync(jsonlPath, JSON.stringify(r) + '\n');
  const f = (x: number | undefined, d = 0) => (x === undefined ? '–' : x.toFixed(d));
  log(
    `  ${r.server} ${r.kind} ${r.size} c=${r.concurrency}: accepted ${f(r.acceptedPerS)}/s, e2e ${f(r.e2ePerS)}/s` +
      (r.searchableP99Ms !== undefined ? `, 250→searchable p50 ${f(r.searchableP50Ms, 1)} p99 ${f(r.searchableP99Ms, 1)} ms` : '') +
      `, CPU ${f(r.cpuMsPerMsg, 2)} ms/msg${r.failed ? `, FAILED ${r.failed}` : ''}${r.note ? ` (${r.note})` : ''}`,
  );
}

/** Sluice fields common to the load and half-peak runs, from what the server side measured. */
function sluiceFields(server: ServerSide, accepted: number, tStart: number) {
  const complete = server.tIndexed !== undefined;
  return {
    e2ePerS: complete ? accepted / (server.tIndexed! - tStart) : undefined,
    searchableP50Ms: server.toSearchable.p50 * 1000,
    searchableP99Ms: server.toSearchable.p99 * 1000,
    cpuMsPerMsg: accepted ? (server.cpuSeconds * 1000) / accepted : undefined,
    note: [
      complete ? '' : `only ${server.indexed} of ${accepted} indexed within ${drainS} s`,
      server.deadLettered ? `${server.deadLettered} dead-lettered` : '',
    ].filter(Boolean).join('; ') || undefined,
  };
}

/** A fresh Sluice (with the scanners configured when `scan`), warmed up (not measured), then `body`, then stopped. */
async function withFreshSluice<T>(size: string, scan: boolean, body: (s: BenchSluice) => Promise<T>, distributed = false): Promise<T> {
  const serverEnv: Record<string, string> = scan && scanners ? { SLUICE_SCAN_CLAMD: scanners.clamd.address, SLUICE_SCAN_RSPAMD: scanners.rspamd.url } : {};
  const s = await BenchSluice.start({ ...SLUICE, ...(distributed && { configFile: opt['cluster-config'] }) }, serverEnv);
  current = s;
  try {
    const warm = Number(opt.warmup);
    if (warm > 0) {
      await s.measure(() => smtpLoad(env, s.smtpPort, { size, concurrency: 4, messages: warm }, [], 'warmup').then((r) => r.record), warm, pollMs, drainS);
    }
    return await body(s);
  } finally {
    current = undefined;
    await s.stop();
  }
}

async function sluiceLoad(spec: LoadSpec, rep: number, scan: boolean, distributed = false): Promise<RunRecord> {
  const server: Server = distributed ? 'sluice@engines' : scan ? 'sluice+scan' : 'sluice';
  return withFreshSluice(spec.size, scan, async (s) => {
    const { load, server: side } = await s.measure(
      () => smtpLoad(env, s.smtpPort, spec, ['--server-pidfile', s.pidFile], `sluice-${spec.size}-c${spec.concurrency}`).then((r) => ({ ...r, accepted: r.record.accepted })),
      spec.messages,
      pollMs,
      drainS,
    );
    const rec = load.record;
    return {
      server, kind: 'load', ...spec, rep, at: new Date().toISOString(),
      accepted: rec.accepted, failed: rec.failed, acceptedPerS: rec.accepted_per_s,
      clientP50Ms: rec.data_latency.p50_ms, clientP99Ms: rec.data_latency.p99_ms,
      machineBusyCores: rec.cpu_send.machine_busy_cores,
      ...sluiceFields(side, rec.accepted, load.tStart),
      ...(distributed && rec.accepted > 0 && {
        engineCpuMsPerMsg: Object.fromEntries(Object.entries(side.engineCpuSeconds).map(([name, cpu]) => [name, (cpu * 1000) / rec.accepted])),
      }),
      detail: { smtpLoad: rec, buckets: side.toSearchable.buckets, toSearchableCount: side.toSearchable.count },
    };
  }, distributed);
}

async function postfixLoad(spec: LoadSpec, rep: number): Promise<RunRecord> {
  const extra = ['--purge-before', '--wait-delivered', '--imap-port', String(ANCHOR_IMAP_PORT), '--password', 'pw', ...ANCHOR_PIDFILES.flatMap((p) => ['--server-pidfile', p])];
  const { record: rec } = await smtpLoad(env, ANCHOR_SMTP_PORT, spec, extra, `postfix-${spec.size}-c${spec.concurrency}`);
  const cpu = rec.cpu_total?.server_cpu_s;
  return {
    server: 'postfix-dovecot', kind: 'load', ...spec, rep, at: new Date().toISOString(),
    accepted: rec.accepted, failed: rec.failed, acceptedPerS: rec.accepted_per_s, e2ePerS: rec.delivered_per_s,
    clientP50Ms: rec.data_latency.p50_ms, clientP99Ms: rec.data_latency.p99_ms,
    cpuMsPerMsg: cpu !== undefined && rec.accepted ? (cpu * 1000) / rec.accepted : undefined,
    machineBusyCores: rec.cpu_total?.machine_busy_cores,
    note: rec.delivered_error,
    detail: { smtpLoad: rec },
  };
}

async function sluicePaced(spec: LoadSpec, rate: number, rep: number): Promise<RunRecord> {
  return withFreshSluice(spec.size, false, async (s) => {
    const { load, server } = await s.measure(() => pacedSend(env, s.smtpPort, spec, rate), spec.messages, pollMs, drainS);
    return {
      server: 'sluice', kind: 'half-peak', ...spec, rep, at: new Date().toISOString(), targetRate: rate,
      accepted: load.accepted, failed: load.failed, acceptedPerS: load.accepted_per_s,
      clientP50Ms: load.txn_latency.p50_ms, clientP99Ms: load.txn_latency.p99_ms,
      ...sluiceFields(server, load.accepted, load.t_start_monotonic),
      detail: { paced: load, buckets: server.toSearchable.buckets },
    };
  });
}

async function attempt(what: string, spec: LoadSpec, rep: number, id: Pick<RunRecord, 'server' | 'kind'>, fn: () => Promise<RunRecord>): Promise<void> {
  log(`${what}: ${spec.messages} × ${spec.size}, c=${spec.concurrency}, rep ${rep}`);
  try {
    keep(await fn());
  } catch (e) {
    log(`  !!! ${what} failed: ${(e as Error).message.slice(0, 2000)}`);
    keep({ ...id, ...spec, rep, at: new Date().toISOString(), accepted: 0, failed: spec.messages, acceptedPerS: NaN, note: `error: ${(e as Error).message.slice(0, 300)}` });
  }
}

/** `--stack distributed`: the two stacks side by side, then the capacity arithmetic from the distributed runs' per-message CPU. */
function distributedSection(): string {
  const dist = records.filter((r) => r.server === 'sluice@engines' && r.kind === 'load' && r.cpuMsPerMsg !== undefined && r.e2ePerS !== undefined);
  // The cheapest load per message (the best-amortised concurrency) is the per-core figure a sized cluster runs at.
  const best = [...dist].sort((a, b) => a.cpuMsPerMsg! - b.cpuMsPerMsg!)[0];
  const sameLoad = best ? dist.filter((r) => r.size === best.size && r.concurrency === best.concurrency) : [];
  const engineNames = [...new Set(sameLoad.flatMap((r) => Object.keys(r.engineCpuMsPerMsg ?? {})))];
  const capacity = best
    ? capacityReport({
        sluiceMs: median(sameLoad.map((r) => r.cpuMsPerMsg))!,
        engineMs: Object.fromEntries(engineNames.map((e) => [e, median(sameLoad.map((r) => r.engineCpuMsPerMsg?.[e]))!])),
        source: `median of ${sameLoad.length} run(s) of ${best.messages} × ${best.size}, c=${best.concurrency} on the engines`,
      })
    : 'No distributed run completed end to end: no capacity figures.';
  return [
    '## Sluice on the embedded default and on the engines',
    '',
    `Distributed: \`sluice serve --config ${opt['cluster-config']}\` (Kafka, Cassandra, OpenSearch, S3 of \`ops/stack\`; each run in a keyspace, index, bucket and topic prefix of its own). ` +
      'Engine CPU is each engine process over the same interval (shared engines: other users\' work on them counts too, so these are upper bounds).',
    '',
    stacksTable(records, sizes, concurrencies),
    '',
    '## Capacity for the seed\'s load (bench/README.md: method)',
    '',
    capacity,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const facts = [
    `date ${new Date().toISOString()}, nproc ${cpus().length} (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, kernel ${release()}, Node ${process.version}`,
    `runs: ${messages} messages per run, sizes ${sizes.join(', ')}, concurrency ${concurrencies.join(', ')}, ${reps} repetition(s), interleaved; Sluice warm-up ${opt.warmup} messages per fresh server; /metrics polled every ${pollMs} ms; stack ${stacks.join(', ')}`,
  ];
  const anchor = new Anchor(env.sharedDir, join(opt.out, `anchor-${stamp}.log`));
  if (withPostfix) facts.push(await anchor.up());
  if (scannerModes.includes(true)) {
    const [clamd, rspamd] = await Promise.all([startClamd(), startRspamd()]);
    scanners = { clamd, rspamd };
    facts.push(`scanners on: clamd ${clamd.address} (a one-signature test database: a full ClamAV database costs more per scan), rspamd ${rspamd.url} (stock rules, no network)`);
  }
  for (const f of facts) log(f);
  process.on('SIGINT', () => {
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
  try {
    for (let rep = 1; rep <= reps; rep++) {
      for (const size of sizes) {
        for (const concurrency of concurrencies) {
          const spec = { size, concurrency, messages };
          if (withSluice) {
            for (const scan of scannerModes) {
              for (const stack of stacks) {
                const distributed = stack === 'distributed';
                const server: Server = distributed ? 'sluice@engines' : scan ? 'sluice+scan' : 'sluice';
                await attempt(server, spec, rep, { server, kind: 'load' }, () => sluiceLoad(spec, rep, scan, distributed));
              }
            }
          }
          if (withPostfix) await attempt('postfix+dovecot', spec, rep, { server: 'postfix-dovecot', kind: 'load' }, () => postfixLoad(spec, rep));
        }
      }
    }
    if (withSluice && scannerModes.includes(false) && stacks.includes('embedded') && !opt['no-half-peak']) {
      for (let rep = 1; rep <= reps; rep++) {
        for (const size of sizes) {
          const peaks = concurrencies.map((c) => median(records.filter((r) => r.server === 'sluice' && r.kind === 'load' && r.size === size && r.concurrency === c).map((r) => r.e2ePerS)));
          const peak = Math.max(...peaks.filter((p): p is number => p !== undefined));
          if (!Number.isFinite(peak)) continue;
          const spec = { size, concurrency: Number(opt['half-peak-connections']), messages };
          await attempt(`sluice half-peak (${(peak / 2).toFixed(0)} msgs/s)`, spec, rep, { server: 'sluice', kind: 'half-peak' }, () => sluicePaced(spec, peak / 2, rep));
        }
      }
    }
  } finally {
    if (withPostfix) await anchor.down();
    await Promise.all([scanners?.clamd.stop(), scanners?.rspamd.stop()]);
  }

  const md = [
    '# Sluice beside Postfix + Dovecot',
    '',
    ...facts.map((f) => `- ${f}`),
    '',
    'Medians over the repetitions. "e2e": Sluice = messages / (load start → every message indexed, i.e. searchable); Postfix + Dovecot = delivered (visible over IMAP STATUS). ' +
      '250→searchable p50/p99 are estimates from the buckets of `sluice_since_received_seconds{stage="index"}` (linear interpolation, as histogram_quantile). ' +
      'CPU ms/msg: the server\'s process tree, from the load\'s start to end-to-end completion, per message.',
    '',
    loadTable(records, sizes, concurrencies),
    '',
    records.some((r) => r.server === 'sluice+scan')
      ? `## Sluice with the scanners off and on\n\nclamd and rspamd configured (\`--scanners on\`): every message is virus-scanned (raw and each attachment) and spam-checked (rspamd /checkv2 plus the built-in checks). CPU is Sluice's process tree only, not the scanners'.\n\n${scannersTable(records, sizes, concurrencies)}\n`
      : '',
    records.some((r) => r.server === 'sluice@engines') ? distributedSection() : '',
    records.some((r) => r.kind === 'half-peak') ? `## Sluice at half its peak end-to-end rate\n\n${halfPeakTable(records, sizes)}\n` : '',
    `Records: ${jsonlPath}`,
  ].join('\n');
  writeFileSync(mdPath, md + '\n');
  console.log('\n' + md);
}

if (suite === 'imap') await imapMain(argv);
else if (suite === 'blob') await blobMain(argv);
else if (suite === 'send') await sendMain(argv);
else await main();
// Done: the harness's loopback DNS server (shared by every Sluice this run started) would keep
// the process alive after the tables are written.
process.exit(0);
