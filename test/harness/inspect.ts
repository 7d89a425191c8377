/**
 * Reading a data folder from a test while the server runs in another process: the store, the
 * index and /metrics, as an operator's tools would.
 */
import { join } from 'node:path';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { SqliteMailStore } from '../../connectors/store/sqlite.ts';
import { SqliteSearchIndex } from '../../connectors/search/sqlite.ts';
import type { MailStore, StoredMessage } from '../../connectors/store/store.ts';
import { ROOT } from './server.ts';

const runFile = promisify(execFile);

export function openStoreOf(dataDir: string): SqliteMailStore {
  return new SqliteMailStore({ path: join(dataDir, 'mail.db') });
}

export function openSearchOf(dataDir: string): SqliteSearchIndex {
  return new SqliteSearchIndex({ path: join(dataDir, 'search.db') });
}

/** Every message of every mailbox of `users`. */
export async function allMessages(store: MailStore, users: readonly string[]): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  for (const u of users) {
    for (const box of await store.mailboxes(u)) {
      let after = 0;
      for (;;) {
        const page = await store.messages(box.id, after, 1000);
        if (page.length === 0) break;
        out.push(...page);
        after = page[page.length - 1].uid;
      }
    }
  }
  return out;
}

export async function scrape(httpPort: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

/** Sum of a metric's samples whose labels include `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export interface SendEvent {
  ack?: string;
  fail?: string;
  rcpt?: string;
  thread?: number;
  n?: number;
  done?: boolean;
  left?: number;
  error?: string;
}

/** Runs test/clients/smtp_send.py (Python's smtplib) and returns its events. */
/** `onChild`: the client's process, for a test that must stop it when it fails. */
export function pythonSend(args: Record<string, string | number>, onEvent?: (e: SendEvent) => void, onChild?: (child: ChildProcess) => void): Promise<SendEvent[]> {
  const argv = [join(ROOT, 'test/clients/smtp_send.py'), ...Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)])];
  return new Promise((resolve, reject) => {
    const child = spawn('python3', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    onChild?.(child);
    const events: SendEvent[] = [];
    let buf = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.trim()) continue;
        const e = JSON.parse(line) as SendEvent;
        events.push(e);
        onEvent?.(e);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(events) : reject(new Error(`smtp_send.py exited ${code}: ${err}`))));
  });
}

export interface ImapSessionResult {
  login: string;
  capabilities: string[];
  capabilities_before_tls?: string[];
  steps: { step: string; typ: string; data: (string | string[])[] }[];
}

/** One IMAP session of Python's imaplib (test/clients/imap_session.py: STARTTLS or implicit TLS, LOGIN, then `steps`). */
export async function imapSession(port: number, user: string, steps: readonly string[], tls: 'starttls' | 'implicit' = 'starttls'): Promise<ImapSessionResult> {
  const argv = [join(ROOT, 'test/clients/imap_session.py'), '--port', String(port), '--user', user, '--tls', tls, ...steps];
  const { stdout } = await runFile('python3', argv, { timeout: 60_000 });
  return JSON.parse(stdout) as ImapSessionResult;
}
