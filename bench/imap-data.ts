/**
 * The IMAP bench's data: one set of generated messages (`gen_messages.py`, cached as a Maildir),
 * loaded into one user's INBOX on Dovecot (`doveadm import`, Dovecot's own copy into its
 * Maildir + indexes) and on Sluice (`sluice mailbox import`, through the pipeline: stored and
 * indexed before the command returns), then checked over IMAP (`imap-check.py`).
 */
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteMailStore } from '../connectors/store/sqlite.ts';
import { hashPassword } from '../ops/password.ts';
import { startSluice, type RunningSluice } from '../test/harness/server.ts';
import { monotonicSeconds, run } from './proc.ts';

const HERE = resolve(fileURLToPath(import.meta.url), '..');
const ROOT = resolve(HERE, '..');
const pythonEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };

export interface MessageSet {
  /** A Maildir (`cur/` only, files in generation order). */
  readonly maildir: string;
  readonly messages: number;
  readonly bytes: number;
  /** Files whose raw bytes contain the search word (a lower bound: quoted-printable may split it). */
  readonly rawMatches: number;
  readonly mix: string;
  readonly seed: number;
}

/** Generates `messages` messages of `mix` (or reuses them from `cacheDir`), all To: `u1@bench.test`. */
export async function messageSet(sharedDir: string, cacheDir: string, messages: number, mix: string, seed: number, word: string): Promise<MessageSet> {
  const dir = join(cacheDir, `imap-${messages}-${mix.replace(/[^0-9a-z]+/gi, '_')}-s${seed}`);
  const metaFile = join(dir, 'meta.json');
  if (existsSync(metaFile)) return JSON.parse(readFileSync(metaFile, 'utf8')) as MessageSet;
  rmSync(dir, { recursive: true, force: true });
  const eml = join(dir, 'eml');
  const maildir = join(dir, 'Maildir');
  mkdirSync(eml, { recursive: true });
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(maildir, sub), { recursive: true });
  const gen = await run('python3', [join(sharedDir, 'gen_messages.py'), '--count', String(messages), '--size', mix, '--users', '1', '--seed', String(seed), '--out', eml], { env: pythonEnv });
  if (gen.code !== 0) throw new Error(`gen_messages.py failed (exit ${gen.code}):\n${gen.stderr}`);
  const needle = Buffer.from(word.toLowerCase());
  let bytes = 0;
  let rawMatches = 0;
  for (const name of readdirSync(eml).filter((n) => n.endsWith('.eml')).sort()) {
    const from = join(eml, name);
    const raw = readFileSync(from);
    bytes += raw.length;
    if (raw.toString('latin1').toLowerCase().includes(needle.toString('latin1'))) rawMatches++;
    renameSync(from, join(maildir, 'cur', `${name.slice(0, -4)}.bench:2,`)); // Maildir info "2," = no flags
  }
  rmSync(eml, { recursive: true, force: true });
  const set: MessageSet = { maildir, messages, bytes, rawMatches, mix, seed };
  writeFileSync(metaFile, JSON.stringify(set) + '\n');
  return set;
}

export interface MailboxCheck {
  readonly exists: number;
  readonly matches: number;
  readonly select_ms: number;
  readonly fetch_ms?: number;
  readonly search_ms: number;
}

/** One session: LOGIN, SELECT, FETCH 1:* (FLAGS ENVELOPE), SEARCH TEXT word (also a warm-up). */
export async function checkMailbox(port: number, user: string, password: string, word: string, fetch = true): Promise<MailboxCheck> {
  const args = [join(HERE, 'imap-check.py'), '--port', String(port), '--user', user, '--password', password, '--word', word];
  const done = await run('python3', fetch ? args : [...args, '--no-fetch'], { env: pythonEnv });
  if (done.code !== 0) throw new Error(`imap-check.py on port ${port} failed (exit ${done.code}):\n${done.stderr.slice(-2000)}`);
  return JSON.parse(done.stdout.trim().split('\n').pop()!) as MailboxCheck;
}

export interface Loaded {
  /** Seconds the load took (import command), not counting the check. */
  readonly loadS: number;
  readonly check: MailboxCheck;
}

const VMAIL_UID = 5000;

/** Into Dovecot (the anchor, already reset): `doveadm import` of the Maildir into INBOX. */
export async function loadDovecot(set: MessageSet, user: string, password: string, imapPort: number, word: string): Promise<Loaded> {
  // doveadm runs as vmail and wants to write index/control files: keep them out of the cache.
  const control = mkdtempSync(join(tmpdir(), 'dovecot-import-'));
  chownSync(control, VMAIL_UID, VMAIL_UID);
  try {
    const t0 = monotonicSeconds();
    const imp = await run('doveadm', ['import', '-u', user, `maildir:${set.maildir}:INDEX=MEMORY:CONTROL=${control}`, '', 'all']);
    const loadS = monotonicSeconds() - t0;
    if (imp.code !== 0) throw new Error(`doveadm import failed (exit ${imp.code}):\n${imp.stderr.slice(-2000)}`);
    const check = await checkMailbox(imapPort, user, password, word);
    if (check.exists !== set.messages) throw new Error(`Dovecot INBOX of ${user} has ${check.exists} messages, expected ${set.messages}`);
    return { loadS, check };
  } finally {
    rmSync(control, { recursive: true, force: true });
  }
}

export interface SluiceLoaded extends Loaded {
  readonly server: RunningSluice;
  readonly dataDir: string;
}

/**
 * A fresh Sluice data folder with the domain and `user`, `sluice mailbox import` of the Maildir
 * (no server running: the command runs the pipeline until everything is stored and indexed),
 * then `sluice serve` with plaintext IMAP login allowed (imap_load.py does not use TLS).
 */
export async function loadSluice(set: MessageSet, user: string, password: string, word: string): Promise<SluiceLoaded> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-bench-imap-'));
  const store = new SqliteMailStore({ path: join(dataDir, 'mail.db') });
  try {
    await store.addDomain(user.slice(user.indexOf('@') + 1));
    await store.addUser(user, await hashPassword(password));
  } finally {
    await store.close();
  }
  const env = { ...process.env, SLUICE_DATA_DIR: dataDir, SLUICE_LOG_LEVEL: 'warn' };
  const t0 = monotonicSeconds();
  const imp = await run(process.execPath, [join(ROOT, 'bin/sluice.js'), 'mailbox', 'import', user, set.maildir], { env });
  const loadS = monotonicSeconds() - t0;
  if (imp.code !== 0) throw new Error(`sluice mailbox import failed (exit ${imp.code}):\n${imp.stdout.slice(-1000)}\n${imp.stderr.slice(-2000)}`);
  const server = await startSluice({ dataDir, env: { SLUICE_AUTH_ALLOW_PLAINTEXT: 'true' } });
  try {
    // Stored and indexed before `import` returned; poll a little in case a stage lags behind.
    let check = await checkMailbox(server.imapPort, user, password, word);
    for (let i = 0; i < 60 && check.exists < set.messages; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      check = await checkMailbox(server.imapPort, user, password, word, false);
    }
    if (check.exists !== set.messages) throw new Error(`Sluice INBOX of ${user} has ${check.exists} messages, expected ${set.messages}`);
    return { loadS, check, server, dataDir };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

/** Disk use of a folder, bytes (for the report). */
export function folderBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  }
  return total;
}

/** "816 MB (blobs 260, log 500, …)": a data folder's size by top-level entry, MB. */
export function folderSummary(dir: string): string {
  const parts = readdirSync(dir, { withFileTypes: true }).map((e) => {
    const path = join(dir, e.name);
    return { name: e.name, bytes: e.isDirectory() ? folderBytes(path) : e.isFile() ? statSync(path).size : 0 };
  });
  const mb = (b: number) => (b / 1e6).toFixed(0);
  const big = parts.filter((p) => p.bytes >= 1e6).sort((a, b) => b.bytes - a.bytes);
  return `${mb(parts.reduce((n, p) => n + p.bytes, 0))} MB (${big.map((p) => `${p.name} ${mb(p.bytes)}`).join(', ')})`;
}
