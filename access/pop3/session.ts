/**
 * One POP3 connection (RFC 1939): reads command lines (pipelined ones queue up, RFC 2449 §6.6),
 * runs them one at a time through the command table, and implements `Pop3Context` for the
 * handlers: replies, STLS, login with the maildrop lock, the UPDATE state's commit, timeouts.
 */
import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { User } from '../../connectors/store/store.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { MailboxService } from '../mailbox-service.ts';
import { pop3Capabilities } from './capabilities.ts';
import { POP3_COMMANDS } from './commands.ts';
import type { Pop3Context, Pop3State } from './context.ts';
import { LINE_TOO_LONG, LineReader, type ReadLine } from './line-reader.ts';
import { Maildrop, type MaildropEntry } from './maildrop.ts';
import type { MaildropLocks } from './maildrop-lock.ts';
import { errLine, Pop3Error, pop3Errors } from './responses.ts';

export interface SessionDeps {
  readonly service: MailboxService;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  readonly secureContext: tls.SecureContext;
  readonly allowPlaintextAuth: boolean;
  readonly idleTimeoutMs: number;
  readonly locks: MaildropLocks;
  readonly maxLineLength: number;
}

/** A client that sends this many bad commands in a row is disconnected. */
const MAX_BAD_COMMANDS = 20;
const CRLF = '\r\n';

export class Pop3Session implements Pop3Context {
  state: Pop3State = 'authorization';
  secure = false;
  maildrop: Maildrop | null = null;
  pendingUser: string | null = null;
  readonly logger: Logger;
  private socket: net.Socket;
  private readonly reader: LineReader;
  private readonly queue: ReadLine[] = [];
  private wake: (() => void) | null = null;
  private closed = false;
  private closing = false;
  private badCommands = 0;
  /** A command is running (the idle timer counts the client's silence, not our own work). */
  private busy = false;
  private user: User | null = null;
  private releaseLock: (() => void) | null = null;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(
    socket: net.Socket,
    private readonly deps: SessionDeps,
    private readonly remoteAddress: string,
  ) {
    this.socket = socket;
    this.logger = deps.logger.child({ remoteAddress });
    this.reader = new LineReader(deps.maxLineLength);
  }

  get plaintextAuthAllowed(): boolean {
    return this.secure || this.deps.allowPlaintextAuth;
  }

  /** Greets (after the TLS handshake when `implicitTls`) and serves until the connection ends. */
  async run(implicitTls: boolean): Promise<void> {
    this.watch(this.socket);
    try {
      if (implicitTls) await this.upgrade();
      this.attach(this.socket);
      // RFC 1939 §4: the greeting. No APOP timestamp: APOP is not offered.
      await this.send('+OK Sluice POP3 server ready');
      for (;;) {
        const line = await this.nextLine();
        if (line === null) break;
        this.busy = true;
        await this.dispatch(line);
        this.busy = false;
        if (this.closing) {
          this.socket.end();
          break;
        }
      }
    } catch (err) {
      if (!this.closed) this.logger.info({ err }, 'pop3 connection failed');
      this.socket.destroy();
    } finally {
      this.end();
    }
  }

  /** Server shutdown: cuts the connection without the UPDATE state (RFC 1939 §6). */
  destroy(): void {
    this.socket.destroy();
    this.end();
  }

  async send(line: string): Promise<void> {
    await this.write(line + CRLF);
  }

  async sendLines(first: string, lines: readonly string[]): Promise<void> {
    // RFC 1939 §3: each data line that starts with "." gets one more.
    const body = lines.map((l) => (l.startsWith('.') ? `.${l}` : l) + CRLF).join('');
    await this.write(`${first}${CRLF}${body}.${CRLF}`);
  }

  async sendBody(first: string, body: Buffer): Promise<void> {
    await this.write(first + CRLF);
    await this.write(body);
  }

  async challenge(base64: string): Promise<string | null> {
    await this.send(`+ ${base64}`);
    const line = await this.nextLine();
    if (line === null) return null;
    return line === LINE_TOO_LONG ? '*' : line;
  }

  capabilities(): string[] {
    return pop3Capabilities({ secure: this.secure, plaintextAuthAllowed: this.plaintextAuthAllowed });
  }

  async login(address: string, password: string): Promise<Maildrop> {
    let user: User | null;
    try {
      user = await this.deps.authenticator.login(address, password, this.remoteAddress);
    } catch (err) {
      this.logger.error({ err }, 'pop3: authenticator failed');
      throw pop3Errors.temporary();
    }
    if (!user) throw pop3Errors.authFailed();
    // RFC 1939 §8: the exclusive-access lock; RFC 2449 §8.1.1 [IN-USE] when another session holds it.
    const release = this.deps.locks.acquire(user.id);
    if (!release) throw pop3Errors.inUse();
    try {
      this.maildrop = await Maildrop.open(this.deps.service, user);
    } catch (err) {
      release();
      if (err instanceof Pop3Error) throw err;
      this.logger.error({ err, userId: user.id }, 'pop3: could not open the maildrop');
      throw pop3Errors.temporary();
    }
    if (this.closed) {
      release();
      throw pop3Errors.temporary();
    }
    this.user = user;
    this.releaseLock = release;
    this.state = 'transaction';
    this.logger.info({ userId: user.id, messages: this.maildrop.stat().count }, 'pop3 login');
    return this.maildrop;
  }

  async startTls(): Promise<void> {
    this.socket.off('data', this.onData);
    // RFC 2595 §4 / CVE-2011-0411: commands pipelined after STLS were sent in the clear; drop them.
    this.reader.reset();
    this.queue.length = 0;
    try {
      await this.upgrade();
    } catch (err) {
      this.logger.info({ err }, 'pop3 STLS handshake failed');
      this.destroy();
      return;
    }
    this.attach(this.socket);
  }

  messageBytes(entry: MaildropEntry): Promise<Buffer> {
    return this.deps.service.messageBytes(entry.message);
  }

  async commit(): Promise<{ expunged: number }> {
    if (!this.maildrop || !this.user) return { expunged: 0 };
    try {
      return await this.maildrop.commit(this.deps.service, this.user.pop3KeepMail);
    } catch (err) {
      // RFC 1939 §6: "-ERR" when some deleted message could not be removed; RFC 3206 SYS/TEMP.
      this.logger.error({ err, userId: this.user.id }, 'pop3: UPDATE state failed');
      throw pop3Errors.temporary();
    }
  }

  close(): void {
    this.closing = true;
  }

  private async dispatch(line: ReadLine): Promise<void> {
    try {
      if (line === LINE_TOO_LONG) throw pop3Errors.lineTooLong();
      const space = line.indexOf(' ');
      const keyword = (space === -1 ? line : line.slice(0, space)).toUpperCase();
      const args = space === -1 ? '' : line.slice(space + 1);
      const command = Object.hasOwn(POP3_COMMANDS, keyword) ? POP3_COMMANDS[keyword] : undefined;
      if (!command) throw pop3Errors.unknownCommand();
      if (!command.states.includes(this.state)) throw pop3Errors.wrongState();
      await command.handle(this, args);
      this.badCommands = 0;
    } catch (err) {
      if (this.closed) return;
      if (!(err instanceof Pop3Error)) this.logger.error({ err }, 'pop3 command failed');
      const error = err instanceof Pop3Error ? err : pop3Errors.temporary();
      await this.send(errLine(error.code, error.text));
      if (++this.badCommands >= MAX_BAD_COMMANDS) {
        await this.send('-ERR Too many bad commands');
        this.closing = true;
      }
    }
  }

  private receive(chunk: Buffer): void {
    for (const line of this.reader.push(chunk)) this.queue.push(line);
    if (this.queue.length > 0) this.wakeUp();
  }

  /** The next line; null once the connection closed. */
  private async nextLine(): Promise<ReadLine | null> {
    while (this.queue.length === 0) {
      if (this.closed) return null;
      // Backpressure: a client that pipelines far ahead waits for the queue to drain.
      this.socket.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.queue.length > 100) this.socket.pause();
    return this.queue.shift() ?? null;
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private watch(socket: net.Socket): void {
    // RFC 1939 §3: an inactivity autologout timer of at least 10 minutes; no UPDATE state.
    socket.setTimeout(this.deps.idleTimeoutMs);
    socket.on('timeout', () => {
      if (this.socket !== socket || this.closed) return;
      // A slow login (the authenticator's brake) or store is not the client idling; a client
      // that stops reading a reply is (its bytes wait in our buffer).
      if (this.busy && socket.writableLength === 0) {
        socket.setTimeout(this.deps.idleTimeoutMs);
        return;
      }
      this.logger.info('pop3 autologout after idle timeout');
      socket.end(errLine(null, 'Autologout; idle for too long') + CRLF);
      this.end();
    });
    socket.on('error', (err) => this.logger.debug({ err }, 'pop3 socket error'));
    socket.on('close', () => {
      if (this.socket === socket) this.end();
    });
  }

  private attach(socket: net.Socket): void {
    socket.on('data', this.onData);
  }

  /** Wraps the current socket in TLS (server side) and waits for the handshake. */
  private async upgrade(): Promise<void> {
    const plain = this.socket;
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: this.deps.secureContext });
    this.socket = secure;
    plain.setTimeout(0);
    this.watch(secure);
    await new Promise<void>((resolve, reject) => {
      secure.once('secure', () => resolve());
      secure.once('error', reject);
      secure.once('close', () => reject(new Error('connection closed during the TLS handshake')));
    });
    this.secure = true;
  }

  private write(data: string | Buffer): Promise<void> {
    const socket = this.socket;
    if (this.closed || socket.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      if (socket.write(data)) {
        resolve();
        return;
      }
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    this.releaseLock?.();
    this.releaseLock = null;
    this.wakeUp();
  }
}
