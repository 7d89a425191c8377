/**
 * Test kit of the POP3 tests: the real pipeline (`startAccessTestEnv`), the real password
 * authenticator, a POP3 server on 127.0.0.1 port 0 (one STLS listener, one implicit-TLS listener),
 * and a small raw-socket POP3 client for wire-level scenarios. Used only by `*.test.ts` here.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ensureTlsCertificate } from '../../ingress/tls.ts';
import { PasswordAuthenticator } from '../auth/password-authenticator.ts';
import { LoginLimiter } from '../auth/login-limiter.ts';
import { startAccessTestEnv, type AccessTestEnv } from '../test-kit.ts';
import { createPop3Server, type Pop3Server, type Pop3ServerOptions } from './server.ts';

export const PASSWORD = 'correct horse';

export interface Pop3Harness {
  readonly env: AccessTestEnv;
  readonly server: Pop3Server;
  /** The STLS listener. */
  readonly port: number;
  /** The implicit-TLS listener. */
  readonly tlsPort: number;
  close(): Promise<void>;
}

export async function startPop3Harness(
  options: Partial<Pick<Pop3ServerOptions, 'allowPlaintextAuth' | 'idleTimeoutMs' | 'maxLineLength'>> & { env?: AccessTestEnv; limiter?: LoginLimiter } = {},
): Promise<Pop3Harness> {
  const env = options.env ?? (await startAccessTestEnv());
  const { key, cert } = ensureTlsCertificate(env.dir, 'localhost');
  // A brake that still counts failures but answers quickly, so tests stay fast.
  const limiter = options.limiter ?? new LoginLimiter({ freeFailures: 1000, baseDelayMs: 1, maxDelayMs: 5 });
  const server = createPop3Server({
    service: env.service,
    authenticator: new PasswordAuthenticator({ store: env.store, logger: env.logger, limiter }),
    logger: env.logger,
    tls: { key, cert },
    hostname: 'localhost',
    allowPlaintextAuth: options.allowPlaintextAuth ?? false,
    idleTimeoutMs: options.idleTimeoutMs,
    maxLineLength: options.maxLineLength,
  });
  const plain = await server.listen(0, '127.0.0.1', false);
  const secure = await server.listen(0, '127.0.0.1', true);
  return {
    env,
    server,
    port: plain.port,
    tlsPort: secure.port,
    async close() {
      await server.close();
      if (!options.env) await env.close();
    },
  };
}

/** A test message with CRLF line ends. */
export function testMessage(subject: string, body: string, from = 'sender@example.org'): string {
  return `From: ${from}\r\nTo: user@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}.${Math.random().toString(36).slice(2)}@example.org>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}`;
}

/** A raw POP3 client: sends lines, reads reply lines (CRLF) as they come. */
export class Pop3TestClient {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | null = null;

  private constructor(private socket: net.Socket) {
    this.listen(socket);
  }

  static async connect(port: number, options: { tls?: boolean } = {}): Promise<Pop3TestClient> {
    const socket = options.tls
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
      : net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new Pop3TestClient(socket);
  }

  get secure(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  /** Writes bytes as they are (no CRLF added). */
  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next reply line, without CRLF; null at end of stream. */
  async line(timeoutMs = 10_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const crlf = this.buffer.indexOf('\r\n');
      if (crlf !== -1) {
        const line = this.buffer.subarray(0, crlf).toString('utf8');
        this.buffer = this.buffer.subarray(crlf + 2);
        return line;
      }
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply line within ${timeoutMs} ms (buffered: ${JSON.stringify(this.buffer.toString())})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Sends one command line and returns the one-line reply. */
  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.expectLine();
  }

  async expectLine(): Promise<string> {
    const reply = await this.line();
    if (reply === null) throw new Error('connection closed');
    return reply;
  }

  /** Reads a multi-line reply's data lines up to the terminating "." (lines returned still stuffed). */
  async readMulti(): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.expectLine();
      if (line === '.') return lines;
      lines.push(line);
    }
  }

  /** Sends a command whose `+OK` is followed by data lines; returns the first line and the data lines unstuffed. */
  async multi(line: string): Promise<{ status: string; lines: string[] }> {
    const status = await this.command(line);
    if (!status.startsWith('+OK')) return { status, lines: [] };
    const lines = (await this.readMulti()).map((l) => (l.startsWith('.') ? l.slice(1) : l));
    return { status, lines };
  }

  /** STLS (and `pipelined`, sent in the same write) then the client side of the TLS handshake. */
  async startTls(pipelined = ''): Promise<string> {
    this.write(`STLS\r\n${pipelined}`);
    const reply = await this.expectLine();
    if (!reply.startsWith('+OK')) return reply;
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('end');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.buffer = Buffer.alloc(0);
    this.listen(secure);
    return reply;
  }

  /** Resolves when the server closed the connection. */
  async closed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private listen(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/** USER/PASS on a client already on TLS (or on a server that allows plaintext). */
export async function login(client: Pop3TestClient, address: string, password = PASSWORD): Promise<string> {
  const user = await client.command(`USER ${address}`);
  if (!user.startsWith('+OK')) return user;
  return client.command(`PASS ${password}`);
}
