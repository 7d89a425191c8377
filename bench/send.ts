/**
 * `npm run bench -- --suite send`: the sending flow, Sluice beside Postfix, under the same
 * submission load to the same remote MTA, interleaved in one run (Sluice c=1, Postfix c=1,
 * Sluice c=4, …, Postfix first on odd repetitions).
 *
 * The remote is a Postfix instance on 127.0.0.77:2525 that takes mail for every
 * dN.remote.test and discards it once queued (`send-postfix.ts`). The load (`send-load.py`):
 * STARTTLS, AUTH as one of the senders u1..u10@bench.test, one remote recipient per message
 * spread over --domains domains. Sluice resolves dN.remote.test through a loopback DNS server
 * (MX mx.remote.test → 127.0.0.77, `outbound.port` 2525); Postfix relays by its transport map.
 *
 * Figures: submitted msgs/s (250s / load start → last 250), delivered msgs/s (remote 250s /
 * load start → last remote 250), p50/p99 from each message's submission 250 to the remote's 250
 * (client wall clock; the remote 250 from the sender: Sluice's delivery results on the log,
 * Postfix's logged delay since MAIL FROM), server CPU per message. It never fails on speed.
 * Options: --messages 2000 --reps 2 --sizes 5k,50k --concurrency 1,4,16 --domains 10
 * --warmup 100 --only sluice|postfix --sluice-route mx|relay --drain-timeout 180 --base /var/tmp/sluice-bench-send (see bench/README.md).
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { run } from './proc.ts';
import { PostfixInstance, RELAY, ensurePostfix } from './send-postfix.ts';
import { relayDeliveries, sendFigures, undeliveredNote, sendTable, threadTicks, treeCpuSeconds, type Delivery, type LoadSummary, type SendRecord, type SendServer, type Submitted } from './send-report.ts';
import { SendSluice } from './send-sluice.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const HERE = join(ROOT, 'bench');
const PASSWORD = 'pw';
const SENDERS = 10;
const senderAddress = (n: number) => `u${n}@bench.test`;

function log(line: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

interface Target {
  readonly server: SendServer;
  readonly host: string;
  readonly port: number;
  /** The pid whose process tree is the server (for CPU). */
  pid(): number;
  /** Called just before the load. */
  mark(): void;
  /** The delivery outcomes known so far, by the queue id the 250 reply gave. */
  deliveries(): Promise<ReadonlyMap<string, Delivery>>;
  /** Sluice: seconds from now until its search index holds this many documents (undefined: not within the limit). */
  indexCaughtUpS?(documents: number): Promise<number | undefined>;
}

interface Loaded {
  readonly summary: LoadSummary;
  readonly submitted: Submitted[];
}

async function sendLoad(o: Options, host: string, port: number, size: string, concurrency: number): Promise<Loaded> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-send-'));
  try {
    const perMessage = join(dir, 'messages.jsonl');
    const args = [
      join(HERE, 'send-load.py'), o.shared, '--host', host, '--port', String(port),
      '--senders', 'u{n}@bench.test', '--sender-count', String(SENDERS), '--password', PASSWORD,
      '--rcpts', 'r{n}@d{d}.remote.test', '--rcpt-count', '100', '--domains', String(o.domains),
      '-n', String(o.messages), '-c', String(concurrency), '--size', size, '--cache-dir', o.cacheDir, '--per-message', perMessage,
    ];
    const done = await run('python3', args, { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    let summary: LoadSummary;
    try {
      summary = JSON.parse(done.stdout.trim().split('\n').pop() ?? '') as LoadSummary;
    } catch {
      throw new Error(`send-load.py failed (exit ${done.code}):\n${done.stdout}\n${done.stderr}`);
    }
    const submitted = readFileSync(perMessage, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Submitted);
    return { summary, submitted };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Options {
  readonly messages: number;
  readonly domains: number;
  readonly shared: string;
  readonly cacheDir: string;
  readonly drainS: number;
  readonly pollMs: number;
  /** Messages sent (and waited for) before each measured run, not measured. */
  readonly warmup: number;
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** The load, then waiting until every accepted message has a final outcome (or the drain timeout). */
async function loadAndDrain(o: Options, t: Target, size: string, concurrency: number, messages: number): Promise<Loaded & { deliveries: ReadonlyMap<string, Delivery> }> {
  const { summary, submitted } = await sendLoad({ ...o, messages }, t.host, t.port, size, concurrency);
  const until = Date.now() + o.drainS * 1000;
  let deliveries: ReadonlyMap<string, Delivery> = new Map();
  const final = (d: Delivery | undefined) => d !== undefined && d.status !== 'deferred';
  for (;;) {
    deliveries = await t.deliveries();
    if (submitted.every((s) => s.qid !== null && final(deliveries.get(s.qid))) || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, o.pollMs));
  }
  return { summary, submitted, deliveries };
}

/**
 * One measured run. First, unless --warmup 0, a warm-up load (same size and connections, so the
 * same senders log in) that is waited for and not measured: a fresh Sluice's first login per
 * user runs scrypt (~100 ms, then remembered), its JIT and caches are cold — one-time costs that
 * a 300-message run would otherwise spread over every message. Postfix gets the same warm-up.
 */
async function measure(o: Options, t: Target, size: string, concurrency: number, rep: number): Promise<SendRecord> {
  let warmedUp = 0;
  if (o.warmup > 0) {
    t.mark();
    warmedUp = (await loadAndDrain(o, t, size, concurrency, o.warmup)).submitted.filter((s) => s.qid !== null).length;
  }
  t.mark();
  const cpu0 = treeCpuSeconds(t.pid(), CLK_TCK);
  const threads0 = threadTicks(t.pid());
  const { summary, submitted, deliveries } = await loadAndDrain(o, t, size, concurrency, o.messages);
  const cpu1 = treeCpuSeconds(t.pid(), CLK_TCK);
  // Every message delivered: how much longer the index takes to hold each Sent copy (the warm-up's too).
  const indexCaughtUpS = await t.indexCaughtUpS?.(warmedUp + submitted.filter((s) => s.qid !== null).length);
  // Sluice's threads (the main one has the process id), CPU ms per message, busiest first (Postfix is many processes).
  const threadMsPerMsg = t.server !== 'sluice' ? [] : [...threadTicks(t.pid())]
    .map(([tid, ticks]) => ({ tid: tid === t.pid() ? 'main' : String(tid), ms: ((ticks - (threads0.get(tid) ?? 0)) * 1000) / CLK_TCK / Math.max(1, submitted.length) }))
    .filter((x) => x.ms >= 0.05)
    .sort((a, b) => b.ms - a.ms)
    .map((x) => `${x.tid} ${x.ms.toFixed(2)}`);
  const figures = sendFigures(summary, submitted, deliveries);
  const notes = [
    figures.delivered < summary.accepted ? `only ${figures.delivered} of ${summary.accepted} delivered within ${o.drainS} s of the load's end: ${undeliveredNote(submitted, deliveries)}` : '',
    summary.failed ? `${summary.failed} refused, e.g. ${summary.errors_sample[0]}` : '',
  ].filter(Boolean);
  return {
    server: t.server,
    size,
    concurrency,
    messages: o.messages,
    rep,
    at: new Date().toISOString(),
    accepted: summary.accepted,
    failed: summary.failed,
    submittedPerS: summary.accepted_per_s,
    clientTxnP50Ms: summary.txn_p50_ms,
    clientTxnP99Ms: summary.txn_p99_ms,
    ...figures,
    cpuMsPerMsg: figures.delivered ? ((cpu1 - cpu0) * 1000) / figures.delivered : undefined,
    threadMsPerMsg,
    indexCaughtUpS,
    note: notes.join('; ') || undefined,
  };
}

function postfixTarget(relay: PostfixInstance): Target {
  let from = 0;
  return {
    server: 'postfix',
    host: RELAY.host,
    port: RELAY.port,
    pid: () => relay.masterPid(),
    mark: () => (from = relay.logSize()),
    deliveries: async () => relayDeliveries(relay.logSince(from)),
  };
}

export async function sendMain(args: readonly string[]): Promise<void> {
  const { values: opt } = parseArgs({
    args: [...args],
    options: {
      messages: { type: 'string', default: '2000' },
      reps: { type: 'string', default: '2' },
      sizes: { type: 'string', default: '5k,50k' },
      concurrency: { type: 'string', default: '1,4,16' },
      domains: { type: 'string', default: '10' },
      'sluice-route': { type: 'string', default: 'mx' },
      only: { type: 'string' },
      'drain-timeout': { type: 'string', default: '180' },
      'poll-ms': { type: 'string', default: '100' },
      warmup: { type: 'string', default: '100' },
      base: { type: 'string', default: '/var/tmp/sluice-bench-send' },
      shared: { type: 'string', default: resolve(ROOT, '../shared/bench') },
      'cache-dir': { type: 'string', default: '/var/tmp/bench-msg-cache' },
      out: { type: 'string', default: join(ROOT, 'bench-results') },
      keep: { type: 'boolean', default: false },
    },
  });
  const o: Options = {
    messages: Number(opt.messages),
    domains: Number(opt.domains),
    shared: opt.shared,
    cacheDir: opt['cache-dir'],
    drainS: Number(opt['drain-timeout']),
    pollMs: Number(opt['poll-ms']),
    warmup: Number(opt.warmup),
  };
  const reps = Number(opt.reps);
  const sizes = opt.sizes.split(',');
  const concurrencies = opt.concurrency.split(',').map(Number);
  const route = opt['sluice-route'];
  if (route !== 'mx' && route !== 'relay') throw new Error(`--sluice-route: mx or relay, not ${route}`);
  const servers: SendServer[] = (['sluice', 'postfix'] as const).filter((s) => opt.only === undefined || opt.only === s);
  if (!servers.length) throw new Error(`--only: sluice or postfix, not ${opt.only}`);

  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  mkdirSync(opt.out, { recursive: true });
  const jsonlPath = join(opt.out, `send-${stamp}.jsonl`);
  const mdPath = join(opt.out, `send-${stamp}.md`);
  const users = Array.from({ length: SENDERS }, (_, i) => senderAddress(i + 1));

  if (!existsSync(join(o.shared, 'gen_messages.py'))) throw new Error(`--shared ${o.shared}: no gen_messages.py there (the shared bench folder)`);
  const version = await ensurePostfix();
  mkdirSync(opt.base, { recursive: true });
  const remote = await PostfixInstance.remote(opt.base);
  const relay = servers.includes('postfix') ? await PostfixInstance.relay(opt.base, users, PASSWORD, o.domains) : undefined;
  const records: SendRecord[] = [];
  const facts = [
    `date ${new Date().toISOString()}, nproc ${cpus().length} (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, kernel ${release()}, Node ${process.version}, Postfix ${version}`,
    `${o.messages} messages per run, one recipient each (r1..r100 at d1..d${o.domains}.remote.test, at random), senders u1..u${SENDERS}@bench.test (one per connection), 10 messages per connection, STARTTLS + AUTH PLAIN, ${reps} repetitions interleaved, ${o.warmup ? `a warm-up of ${o.warmup} messages (same load, waited for, not measured) before each run` : 'no warm-up'}`,
    `remote: Postfix on ${'127.0.0.77:2525'} (STARTTLS offered, mail discarded once queued); Postfix relay on ${RELAY.host}:${RELAY.port} (SASL sasldb, transport map, opportunistic TLS); Sluice: a fresh data folder per run, ${route === 'mx' ? 'MX lookups through a loopback DNS server' : 'outbound.relay 127.0.0.77:2525 (no DNS, as Postfix\'s transport map)'}`,
  ];
  try {
    await remote.start();
    if (relay) await relay.start();
    for (let rep = 0; rep < reps; rep++) {
      for (const size of sizes) {
        for (const c of concurrencies) {
          const order = rep % 2 ? [...servers].reverse() : servers;
          for (const server of order) {
            log(`${server} ${size} c=${c} rep ${rep + 1}/${reps}`);
            let r: SendRecord;
            if (server === 'postfix') {
              r = await measure(o, postfixTarget(relay!), size, c, rep);
            } else {
              const sluice = await SendSluice.start({ users, password: PASSWORD, domains: o.domains, route, keep: opt.keep });
              try {
                r = await measure(o, sluice.target(), size, c, rep);
              } finally {
                await sluice.stop();
              }
            }
            records.push(r);
            appendFileSync(jsonlPath, JSON.stringify(r) + '\n');
            const f = (x: number | undefined, d = 0) => (x === undefined ? '–' : x.toFixed(d));
            log(`  submitted ${f(r.submittedPerS)}/s, delivered ${f(r.deliveredPerS)}/s (${r.delivered}/${r.accepted}), 250→remote 250 p50 ${f(r.p50Ms, 1)} p99 ${f(r.p99Ms, 1)} ms, CPU ${f(r.cpuMsPerMsg, 2)} ms/msg${r.indexCaughtUpS !== undefined ? `, index caught up ${f(r.indexCaughtUpS, 2)} s after the last delivery` : ''}${r.threadMsPerMsg?.length ? ` (threads: ${r.threadMsPerMsg.join(', ')})` : ''}${r.note ? ` (${r.note})` : ''}`);
          }
        }
      }
    }
  } finally {
    await relay?.stop();
    await remote.stop();
  }
  const md = [
    '# Sending: Sluice beside Postfix, to the same remote Postfix',
    '',
    ...facts.map((f) => `- ${f}`),
    '',
    'Medians over the repetitions. submitted = 250s / (load start → last 250); delivered = remote 250s / (load start → last remote 250); ' +
      '250→remote 250 = per message, from the submission 250 (client clock) to the remote\'s 250 (Sluice: `at` of its delivery result on `mail.outbound.results`; Postfix: MAIL FROM time + its logged `delay`); ' +
      'CPU = the server\'s process tree (Postfix: the relay instance\'s master and children) from the load\'s start to the last delivery, per delivered message. The ratio is Sluice / Postfix delivered (target ≥ 1).',
    '',
    sendTable(records, sizes, concurrencies),
    '',
    ...records.filter((r) => r.note).map((r) => `- note: ${r.server} ${r.size} c=${r.concurrency} rep ${r.rep + 1}: ${r.note}`),
    '',
    `Records: ${jsonlPath}`,
  ].join('\n');
  writeFileSync(mdPath, md + '\n');
  console.log('\n' + md);
}
