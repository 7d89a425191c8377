/**
 * Test support for the IMAP server's tests: a live server (both listeners) over the real
 * embedded pipeline of `access/test-kit.ts`, a self-signed certificate, and a small raw-socket
 * client that reads whole responses (literals included) and can STARTTLS and COMPRESS.
 * Used only by `*.test.ts` files.
 */
import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { ensureTlsCertificate } from '../../ingress/tls.ts';
import { startAccessTestEnv, type AccessTestEnv } from '../test-kit.ts';
import { LoginLimiter } from '../auth/login-limiter.ts';
import { PasswordAuthenticator } from '../auth/password-authenticator.ts';
import { createImapServer, type ImapServer, type ImapServerOptions } from './server.ts';

export const PASSWORD = 'imap-secret';

export interface ImapTestEnv {
  readonly env: AccessTestEnv;
  readonly server: ImapServer;
  /** Plain listener (STARTTLS). */
  readonly port: number;
  /** Implicit TLS listener. */
  readonly tlsPort: number;
  close(): Promise<void>;
}

export async function startImapTestEnv(options: Partial<ImapServerOptions> & { limiter?: LoginLimiter } = {}): Promise<ImapTestEnv> {
  const env = await startAccessTestEnv();
  await env.addUser('alice@example.test', PASSWORD);
  await env.addUser('bob@example.test', PASSWORD);
  const material = ensureTlsCertificate(env.dir, 'localhost');
  const authenticator = new PasswordAuthenticator({
    store: env.store,
    logger: env.logger,
    limiter: options.limiter ?? new LoginLimiter({ freeFailures: 100 }),
  });
  const server = createImapServer({
    service: env.service,
    authenticator,
    logger: env.logger,
    tls: { key: material.key, cert: material.cert },
    hostname: 'localhost',
    allowPlaintextAuth: true,
    maxMessageSize: 1024 * 1024,
    ...options,
  });
  const { port } = await server.listen(0, '127.0.0.1', false);
  const { port: tlsPort } = await server.listen(0, '127.0.0.1', true);
  return {
    env,
    server,
    port,
    tlsPort,
    async close() {
      await server.close();
      await env.close();
    },
  };
}

export interface Tagged {
  /** Untagged and continuation responses before the tagged one, each without its final CRLF. */
  readonly untagged: string[];
  /** The tagged line, e.g. `A1 OK [READ-WRITE] SELECT completed`. */
  readonly tagged: string;
}

/** A raw IMAP client for wire-level scenarios. */
export class TestClient {
  private socket: net.Socket;
  private buffer = Buffer.alloc(0);
  private readonly responses: string[] = [];
  private waiter: (() => void) | null = null;
  private tagCounter = 0;
  private deflate: zlib.DeflateRaw | null = null;
  private ended = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  static async connect(port: number, options: { tls?: boolean } = {}): Promise<TestClient> {
    const socket = options.tls
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
      : net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new TestClient(socket);
  }

  get closed(): boolean {
    return this.ended;
  }

  /** The next whole response (a line, with any literals inline). */
  async next(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.responses.length === 0) {
      if (this.ended) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a response');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.responses.shift()!;
  }

  /** Whether a response arrives within `ms`. */
  async quiet(ms: number): Promise<boolean> {
    try {
      const line = await this.next(ms);
      this.responses.unshift(line);
      return false;
    } catch {
      return true;
    }
  }

  send(data: string | Buffer): void {
    if (this.deflate) {
      this.deflate.write(data);
      this.deflate.flush(zlib.constants.Z_SYNC_FLUSH);
    } else {
      this.socket.write(data);
    }
  }

  /** Sends `<tag> <text>` and collects responses up to the tagged one. */
  async command(text: string, timeoutMs = 5000): Promise<Tagged> {
    const tag = `T${++this.tagCounter}`;
    this.send(`${tag} ${text}\r\n`);
    return this.until(tag, timeoutMs);
  }

  async until(tag: string, timeoutMs = 5000): Promise<Tagged> {
    const untagged: string[] = [];
    for (;;) {
      const line = await this.next(timeoutMs);
      if (line.startsWith(`${tag} `)) return { untagged, tagged: line };
      untagged.push(line);
    }
  }

  async startTls(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  startCompression(): void {
    const inflate = zlib.createInflateRaw();
    this.deflate = zlib.createDeflateRaw();
    this.deflate.on('data', (chunk: Buffer) => this.socket.write(chunk));
    this.socket.removeAllListeners('data');
    this.socket.on('data', (chunk: Buffer) => inflate.write(chunk));
    inflate.on('data', (chunk: Buffer) => this.onData(chunk));
    // Bytes that came in the same read as the tagged OK already belong to the deflate stream
    // (the server may send an empty sync-flush block right away, RFC 4978 §4).
    const early = this.buffer;
    this.buffer = Buffer.alloc(0);
    if (early.length > 0) inflate.write(early);
  }

  close(): void {
    this.socket.destroy();
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => {
      this.ended = true;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const line = this.takeResponse();
      if (line === null) break;
      this.responses.push(line);
    }
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  /** One response: lines joined across `{n}` literals. */
  private takeResponse(): string | null {
    let pos = 0;
    for (;;) {
      const lf = this.buffer.indexOf('\r\n', pos);
      if (lf === -1) return null;
      const m = /\{(\d+)\}$/.exec(this.buffer.toString('latin1', pos, lf));
      if (!m) {
        const text = this.buffer.toString('utf8', 0, lf);
        this.buffer = this.buffer.subarray(lf + 2);
        return text;
      }
      const end = lf + 2 + Number(m[1]);
      if (this.buffer.length < end) return null;
      pos = end;
    }
  }
}

/** Logs in a fresh client (plain listener, plaintext auth allowed). */
export async function loggedIn(port: number, user = 'alice@example.test'): Promise<TestClient> {
  const client = await TestClient.connect(port);
  await client.next(); // greeting
  const login = await client.command(`LOGIN ${user} ${PASSWORD}`);
  if (!login.tagged.includes('OK')) throw new Error(`login failed: ${login.tagged}`);
  return client;
}
