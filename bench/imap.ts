/**
 * `npm run bench -- --suite imap` (or `node bin/run-ts.js bench/imap.ts`): the same 10,000
 * messages in one INBOX on Sluice and on Dovecot (the Postfix + Dovecot anchor), then
 * `imap_load.py --mode isolated` (../shared/bench, unchanged: the same client for both) per
 * operation at 1 and 8 clients, interleaved (Sluice, Dovecot, Sluice, … over the repetitions).
 * Writes bench-results/imap-<stamp>.{jsonl,md} and prints the table. See bench/README.md.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Anchor, ANCHOR_IMAP_PORT } from './anchor.ts';
import { checkMailbox, folderSummary, loadDovecot, loadSluice, messageSet, type SluiceLoaded } from './imap-data.ts';
import { IMAP_OPS, imapTable, toRecord, verdicts, type ImapLoadRecord, type ImapOp, type ImapRecord, type ImapServer } from './imap-report.ts';
import { run } from './proc.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const USER = 'u1@bench.test';
const PASSWORD = 'pw';
const DOVECOT_PIDFILE = '/run/dovecot/master.pid';
/** The anchor's `mail_location` for USER. */
const DOVECOT_MAILDIR = '/var/vmail/bench.test/u1/Maildir';

function log(line: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

function options(args: readonly string[]) {
  const { values } = parseArgs({
    args: [...args],
    options: {
      messages: { type: 'string', default: '10000' },
      mix: { type: 'string', default: '5k:80,50k:18,500k:2' },
      seed: { type: 'string', default: '1' },
      reps: { type: 'string', default: '3' },
      clients: { type: 'string', default: '1,8' },
      ops: { type: 'string', default: IMAP_OPS.join(',') },
      duration: { type: 'string', default: '10' },
      word: { type: 'string', default: 'budget' },
      only: { type: 'string' },
      shared: { type: 'string', default: resolve(ROOT, '../shared/bench') },
      'cache-dir': { type: 'string', default: '/var/tmp/bench-msg-cache' },
      out: { type: 'string', default: join(ROOT, 'bench-results') },
      keep: { type: 'boolean', default: false },
    },
  });
  const ops = values.ops.split(',').filter(Boolean);
  for (const op of ops) if (!(IMAP_OPS as readonly string[]).includes(op)) throw new Error(`--ops: unknown operation ${op} (${IMAP_OPS.join(', ')})`);
  if (values.only !== undefined && values.only !== 'sluice' && values.only !== 'dovecot') throw new Error('--only sluice|dovecot');
  return {
    ...values,
    messages: Number(values.messages),
    seed: Number(values.seed),
    reps: Number(values.reps),
    clients: values.clients.split(',').map(Number),
    ops: ops as ImapOp[],
    servers: (values.only ? [values.only] : ['sluice', 'dovecot']) as ImapServer[],
  };
}

type Options = ReturnType<typeof options>;

/** One imap_load.py phase: `op` for `duration` s with `clients` clients on the one user. */
async function imapLoad(o: Options, port: number, op: ImapOp, clients: number, label: string, pidFile: string): Promise<ImapLoadRecord> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-imap-load-'));
  const jsonOut = join(dir, 'run.jsonl');
  try {
    const args = [
      join(o.shared, 'imap_load.py'), '--host', '127.0.0.1', '--port', String(port), '--user-pattern', 'u{n}@bench.test', '--users', '1',
      '--password', PASSWORD, '-c', String(clients), '--duration', o.duration, '--mode', 'isolated', '--ops', op,
      '--search-word', o.word, '--label', label, '--json-out', jsonOut, '--server-pidfile', pidFile,
    ];
    const done = await run('python3', args, { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    try {
      return JSON.parse(readFileSync(jsonOut, 'utf8').trim().split('\n').pop()!) as ImapLoadRecord;
    } catch {
      throw new Error(`imap_load.py wrote no record (exit ${done.code}):\n${done.stdout.slice(-2000)}\n${done.stderr.slice(-2000)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function imapMain(args: readonly string[]): Promise<void> {
  const o = options(args);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  mkdirSync(o.out, { recursive: true });
  const jsonlPath = join(o.out, `imap-${stamp}.jsonl`);
  const mdPath = join(o.out, `imap-${stamp}.md`);
  const records: ImapRecord[] = [];
  const facts = [
    `date ${new Date().toISOString()}, nproc ${cpus().length} (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, kernel ${release()}, Node ${process.version}`,
  ];
  log(facts[0]);

  const set = await messageSet(o.shared, o['cache-dir'], o.messages, o.mix, o.seed, o.word);
  facts.push(`mailbox: ${set.messages} messages (${(set.bytes / 1e6).toFixed(1)} MB, gen_messages.py mix ${set.mix}, seed ${set.seed}) in the INBOX of ${USER}; "${o.word}" in the raw text of ${set.rawMatches}`);
  log(facts[1]);

  const withDovecot = o.servers.includes('dovecot');
  const anchor = new Anchor(o.shared, join(o.out, `anchor-${stamp}.log`));
  let sluice: SluiceLoaded | undefined;
  const stopAll = async () => {
    await sluice?.server.stop();
    if (sluice && !o.keep) rmSync(sluice.dataDir, { recursive: true, force: true });
    if (withDovecot) await anchor.down();
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  let dovecotMatches: number | undefined;
  const ports: Partial<Record<ImapServer, { port: number; pidFile: string }>> = {};
  try {
    if (withDovecot) {
      facts.push(await anchor.up());
      const d = await loadDovecot(set, USER, PASSWORD, ANCHOR_IMAP_PORT, o.word);
      facts.push(`Dovecot: loaded by \`doveadm import\` in ${d.loadS.toFixed(1)} s, mail store ${existsSync(DOVECOT_MAILDIR) ? folderSummary(DOVECOT_MAILDIR) : '?'}; check: EXISTS ${d.check.exists}, SEARCH TEXT "${o.word}" → ${d.check.matches} (first search ${d.check.search_ms} ms)`);
      dovecotMatches = d.check.matches;
      ports.dovecot = { port: ANCHOR_IMAP_PORT, pidFile: DOVECOT_PIDFILE };
      log(facts.at(-1)!);
    }
    if (o.servers.includes('sluice')) {
      sluice = await loadSluice(set, USER, PASSWORD, o.word);
      facts.push(
        `Sluice: loaded by \`sluice mailbox import\` (pipeline: stored + indexed) in ${sluice.loadS.toFixed(1)} s, data folder ${folderSummary(sluice.dataDir)}; ` +
          `check: EXISTS ${sluice.check.exists}, SEARCH TEXT "${o.word}" → ${sluice.check.matches} (first search ${sluice.check.search_ms} ms)`,
      );
      ports.sluice = { port: sluice.server.imapPort, pidFile: String(sluice.server.child.pid) };
      log(facts.at(-1)!);
    }
    if (sluice && dovecotMatches !== undefined && dovecotMatches !== sluice.check.matches) {
      facts.push(`**SEARCH TEXT "${o.word}" differs**: Sluice ${sluice.check.matches}, Dovecot ${dovecotMatches} messages`);
      log(facts.at(-1)!);
    }
    // Warm-up, not measured: a second FETCH ENVELOPE + SEARCH on each (caches, JIT, page cache).
    for (const server of o.servers) await checkMailbox(ports[server]!.port, USER, PASSWORD, o.word);
    facts.push(`runs: imap_load.py --mode isolated, ${o.duration} s per phase, ops ${o.ops.join(', ')}, clients ${o.clients.join(', ')}, ${o.reps} repetition(s), interleaved per phase (the first server alternates by repetition)`);
    for (let rep = 1; rep <= o.reps; rep++) {
      const order = rep % 2 ? o.servers : [...o.servers].reverse();
      for (const op of o.ops) {
        for (const clients of o.clients) {
          for (const server of order) {
            const { port, pidFile } = ports[server]!;
            try {
              const r = toRecord(server, op, clients, rep, await imapLoad(o, port, op, clients, `${server}-${op}-c${clients}`, pidFile));
              records.push(r);
              appendFileSync(jsonlPath, JSON.stringify(r) + '\n');
              log(`${server} ${op} c=${clients} rep ${rep}: ${r.opsPerS.toFixed(1)} ops/s, p50 ${r.p50Ms ?? '–'} p99 ${r.p99Ms ?? '–'} ms, server ${r.serverCores ?? '–'} cores${r.errors ? `, ${r.errors} ERRORS: ${r.note}` : ''}`);
            } catch (e) {
              log(`  !!! ${server} ${op} c=${clients} rep ${rep} failed: ${(e as Error).message.slice(0, 2000)}`);
            }
          }
        }
      }
    }
    if (sluice) {
      const after = await checkMailbox(sluice.server.imapPort, USER, PASSWORD, o.word, false);
      if (sluice.server.child.exitCode !== null) facts.push(`**Sluice exited during the run**: ${sluice.server.stderr().slice(-500)}`);
      else facts.push(`Sluice after the run: EXISTS ${after.exists}, SEARCH TEXT → ${after.matches}`);
    }
  } finally {
    await stopAll();
  }

  const md = [
    '# IMAP: Sluice beside Dovecot',
    '',
    ...facts.map((f) => `- ${f}`),
    '',
    'Medians over the repetitions; latencies are client-side per command (imap_load.py: Python imaplib on the same 2 cores), p50 / p99 the medians of each run\'s. ' +
      '"cores": the server\'s process tree CPU over the phase (Dovecot: master and all its children, login and imap processes included).',
    '',
    imapTable(records, o.ops, o.clients),
    '',
    ...verdicts(records, o.ops, o.clients).map((v) => `- ${v}`),
    '',
    `Records: ${jsonlPath}`,
  ].join('\n');
  writeFileSync(mdPath, md + '\n');
  console.log('\n' + md);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await imapMain(process.argv.slice(2));
