/**
 * Test kit of the MX listener's tests: a live server over the real embedded log, file blob store
 * and SQLite mail store in a temp dir, and a small raw-socket SMTP client (a line reader) for
 * wire-level scenarios. Used only by `*.test.ts` files in this folder.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { pino } from 'pino';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { FsBlobStore } from '../connectors/blob/fs.ts';
import { SqliteMailStore } from '../connectors/store/sqlite.ts';
import { schemaType } from '../schemas/registry.ts';
import type { MailReceived } from '../schemas/types.ts';
import { createMxServer, type MxDeps, type MxServer } from './smtp-mx.ts';

export const DOMAIN = 'example.test';
export const HOSTNAME = 'mx.example.test';
export const TOPIC = 'mail.received';
const PARTITIONS = 4;

export interface Harness {
  readonly dir: string;
  readonly port: number;
  readonly log: EmbeddedLog;
  readonly blobs: FsBlobStore;
  readonly store: SqliteMailStore;
  readonly server: MxServer;
  /** Every record on mail.received, decoded, in (partition, offset) order. */
  records(): Promise<MailReceived[]>;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<Omit<MxDeps, 'log' | 'blobs' | 'store' | 'encode'>> & { users?: string[] } = {}): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
  const log = new EmbeddedLog({ path: path.join(dir, 'log.sqlite'), lingerMs: 1 });
  const blobs = new FsBlobStore({ dir: path.join(dir, 'blobs') });
  const store = new SqliteMailStore({ path: path.join(dir, 'store.sqlite') });
  await log.ensureTopics([{ name: TOPIC, partitions: PARTITIONS }]);
  await store.addDomain(DOMAIN);
  for (const user of options.users ?? [`alice@${DOMAIN}`, `bob@${DOMAIN}`]) await store.addUser(user, 'x');
  const type = schemaType('MailReceived');
  const { users: _users, ...rest } = options;
  const server = createMxServer({
    log,
    blobs,
    store,
    logger: pino({ level: 'silent' }),
    hostname: HOSTNAME,
    reverseLookup: false,
    closeTimeoutMs: 500,
    encode: (value) => type.toBuffer(value),
    ...rest,
  });
  const { port } = await server.listen(0, '127.0.0.1');
  let closed = false;
  return {
    dir,
    port,
    log,
    blobs,
    store,
    server,
    async records() {
      const out: MailReceived[] = [];
      for (let p = 0; p < PARTITIONS; p++) {
        for (const record of await log.read(TOPIC, p, 0, 10_000)) out.push(type.fromBuffer(record.value) as MailReceived);
      }
      return out;
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      await Promise.allSettled([log.close(), blobs.close(), store.close()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  readonly code: number;
  /** Every line of the reply, without the CRLF. */
  readonly lines: string[];
  /** The text of the last line after the code. */
  readonly text: string;
}

/** A raw SMTP client: writes bytes as given and reads whole (multi-line) replies. */
export class RawSmtpClient {
  private buffer = '';
  private readonly replies: Reply[] = [];
  private waiter: (() => void) | undefined;
  private closedFlag = false;

  private constructor(private socket: net.Socket | tls.TLSSocket) {
    this.attach(socket);
  }

  static async connect(port: number): Promise<RawSmtpClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawSmtpClient(socket);
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1');
      this.parse();
    });
    socket.on('close', () => {
      this.closedFlag = true;
      this.waiter?.();
    });
    socket.on('error', () => {});
  }

  private parse(): void {
    let lines: string[] = [];
    let start = 0;
    for (let eol = this.buffer.indexOf('\r\n'); eol !== -1; eol = this.buffer.indexOf('\r\n', start)) {
      const line = this.buffer.slice(start, eol);
      start = eol + 2;
      lines.push(line);
      if (!/^\d{3}-/.test(line)) {
        this.replies.push({ code: Number(line.slice(0, 3)), lines, text: line.slice(4) });
        this.buffer = this.buffer.slice(start);
        start = 0;
        lines = [];
      }
    }
    this.waiter?.();
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** The next reply; rejects after `timeoutMs` or when the connection closes first. */
  async read(timeoutMs = 5000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.closedFlag) throw new Error(`connection closed while waiting for a reply (buffer: ${JSON.stringify(this.buffer)})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms (buffer: ${JSON.stringify(this.buffer)})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.replies.shift()!;
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }

  /** Sends one command line (CRLF added) and reads its reply. */
  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  /** Upgrades to TLS after a 220 to STARTTLS (RFC 3207 §4), trusting `ca`. */
  async startTls(ca: string): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secure = tls.connect({ socket: this.socket, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  /** Resolves once the server has closed the connection (or after `timeoutMs`, false). */
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closedFlag && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closedFlag;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Connects, reads the 220 greeting and says EHLO; returns the client and the EHLO reply. */
export async function greet(port: number, helo = 'client.example'): Promise<{ client: RawSmtpClient; ehlo: Reply }> {
  const client = await RawSmtpClient.connect(port);
  const banner = await client.read();
  if (banner.code !== 220) throw new Error(`unexpected greeting: ${banner.lines.join(' | ')}`);
  const ehlo = await client.command(`EHLO ${helo}`);
  return { client, ehlo };
}

/** A small RFC 5322 message with CRLF line endings. */
export function message(subject: string, body = 'Hello.'): string {
  return [`From: Sender <sender@remote.example>`, `To: Alice <alice@${DOMAIN}>`, `Subject: ${subject}`, `Message-ID: <${subject.replace(/\W/g, '')}@remote.example>`, '', body, ''].join('\r\n');
}
