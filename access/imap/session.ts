/**
 * One IMAP connection (RFC 9051 §3): the state machine — not authenticated, authenticated,
 * selected, logout — over the framed input of `wire/reader.ts`. Commands are answered strictly
 * in order: the next one starts only when the previous one answered (a change awaits the log),
 * while pipelined input waits in a bounded queue. After each command in the selected state the
 * session reports what changed (`selected-view.ts`); IDLE (RFC 2177) reports as it happens.
 */
import type tls from 'node:tls';
import type net from 'node:net';
import type { Logger } from 'pino';
import type { User } from '../../connectors/store/store.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { MailboxService } from '../mailbox-service.ts';
import { capabilityLine } from './capabilities.ts';
import { ImapParseError, type CommandName, type ImapCommand } from './command.ts';
import { handleAppend } from './commands/append.ts';
import { handleAuthenticate, handleLogin, type AuthOutcome } from './commands/auth.ts';
import { handleList, handleLsub } from './commands/list.ts';
import { handleCreate, handleDelete, handleRename, handleSubscribe } from './commands/mailboxes.ts';
import { handleEnable, handleId, handleNamespace } from './commands/misc.ts';
import { handleGetQuota, handleGetQuotaRoot, handleSetQuota } from './commands/quota.ts';
import { handleClose, handleSelect, handleUnselect } from './commands/select.ts';
import { handleStatus } from './commands/status.ts';
import { Connection } from './connection.ts';
import type { CommandResult, EnabledExtensions, ImapContext } from './context.ts';
import { toResult } from './imap-error.ts';
import { decodeMailboxName as decodeMutf7, encodeMailboxName as encodeMutf7 } from './mutf7.ts';
import { parseCommand } from './parse-command.ts';
import { runSelectedCommand, type SelectedCommand } from './selected-commands.ts';
import type { SelectedMailbox } from './selected-view.ts';
import type { ImapSettings, SessionApi } from './session-api.ts';
import { Autologout } from './autologout.ts';
import { SessionInput } from './session-input.ts';

export interface SessionOptions {
  readonly service: MailboxService;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  readonly settings: ImapSettings;
  readonly secureContext: tls.SecureContext;
  readonly allowPlaintextAuth: boolean;
  /** RFC 9051 §5.4: at least 30 minutes once authenticated. */
  readonly idleTimeoutMs: number;
  /** Before authentication a shorter limit applies. */
  readonly preauthTimeoutMs: number;
  /** Longest command line (RFC 9051 §4 allows servers a limit). */
  readonly maxLineLength: number;
  /** Largest literal outside APPEND, and any literal before authentication is capped lower. */
  readonly maxCommandLiteral: number;
  /** Failed LOGIN/AUTHENTICATE attempts per connection before `* BYE`. */
  readonly maxAuthFailures: number;
}

type State = 'notAuthenticated' | 'authenticated' | 'selected' | 'logout';

/** RFC 9051 §6: the states each command is valid in (CAPABILITY, NOOP, LOGOUT, ID: any). */
const AUTHED: readonly State[] = ['authenticated', 'selected'];
const VALID_IN: Partial<Record<CommandName, readonly State[]>> = {
  STARTTLS: ['notAuthenticated'],
  LOGIN: ['notAuthenticated'],
  AUTHENTICATE: ['notAuthenticated'],
  // RFC 5161 §3.1: ENABLE before any mailbox is selected.
  ENABLE: ['authenticated'],
  CHECK: ['selected'],
  CLOSE: ['selected'],
  UNSELECT: ['selected'],
  FETCH: ['selected'],
  STORE: ['selected'],
  COPY: ['selected'],
  MOVE: ['selected'],
  EXPUNGE: ['selected'],
  SEARCH: ['selected'],
  SORT: ['selected'],
  THREAD: ['selected'],
};
const ANY_STATE = new Set<CommandName>(['CAPABILITY', 'NOOP', 'LOGOUT', 'ID']);

/** Literals before authentication are small (LOGIN's arguments at most). */
const PREAUTH_LITERAL = 8 * 1024;

export class ImapSession implements SessionApi {
  private state: State = 'notAuthenticated';
  private readonly connection: Connection;
  private readonly input: SessionInput;
  private readonly autologout: Autologout;
  private dirty = false;
  private busy = false;
  private authFailures = 0;
  private unwatch: (() => void) | null = null;
  private currentUser: User | null = null;
  private view: SelectedMailbox | null = null;
  private closedResolve!: () => void;
  /** Resolves when the connection is gone. */
  readonly closed = new Promise<void>((resolve) => (this.closedResolve = resolve));
  readonly enabled: EnabledExtensions = { condstore: false, qresync: false, imap4rev2: false, utf8: false };
  readonly service: MailboxService;
  readonly logger: Logger;
  readonly settings: ImapSettings;

  constructor(
    socket: net.Socket,
    implicitTls: boolean,
    private readonly options: SessionOptions,
  ) {
    this.service = options.service;
    this.settings = options.settings;
    const remoteAddress = socket.remoteAddress ?? '';
    this.logger = options.logger.child({ remoteAddress, remotePort: socket.remotePort });
    this.connection = new Connection(socket, remoteAddress, implicitTls, {
      onData: (chunk) => {
        this.autologout.touch();
        this.input.push(chunk);
      },
      onClose: () => this.onClose(),
    });
    this.input = new SessionInput(this.connection, {
      maxLineLength: options.maxLineLength,
      maxLiteral: (prefix) => this.maxLiteral(prefix),
      onContinuation: () => {
        this.write('+ Ready for literal data\r\n'); // RFC 9051 §7.5
        this.connection.flush();
      },
    });
    this.autologout = new Autologout(
      () => (this.state === 'notAuthenticated' ? options.preauthTimeoutMs : options.idleTimeoutMs),
      () => this.busy,
      () => {
        this.logger.info('IMAP autologout');
        this.shutdown('Autologout; idle for too long');
      },
    );
  }

  get user(): User {
    if (!this.currentUser) throw new Error('not authenticated');
    return this.currentUser;
  }

  get selected(): SelectedMailbox | null {
    return this.view;
  }

  /** Greets and serves until the connection ends. */
  async run(): Promise<void> {
    this.write(`* OK [CAPABILITY ${this.capabilities()}] Sluice ready\r\n`);
    this.connection.flush();
    this.autologout.start();
    try {
      await this.loop();
    } catch (err) {
      this.logger.error({ err }, 'IMAP session failed');
      this.connection.destroy();
    }
  }

  /** `* BYE` and close (server shutdown, RFC 9051 §7.1.5). */
  shutdown(text: string): void {
    if (this.connection.isClosed) return;
    this.write(`* BYE ${text}\r\n`);
    this.state = 'logout';
    this.connection.end();
  }

  // — SessionApi —

  select(view: SelectedMailbox | null): void {
    this.view = view;
    this.state = view ? 'selected' : 'authenticated';
  }

  write(...chunks: (string | Buffer)[]): void {
    for (const chunk of chunks) this.connection.write(chunk);
  }

  decodeMailboxName(name: string): string {
    let decoded = name;
    if (!this.enabled.utf8) {
      // RFC 3501 §5.1.3: a name that is not valid modified UTF-7 is no mailbox's name. Used as
      // given, it finds nothing (SELECT: NO [NONEXISTENT], LIST: no match); CREATE and RENAME
      // refuse it (`commands/mailboxes.ts`).
      try {
        decoded = decodeMutf7(name);
      } catch {
        decoded = name;
      }
    }
    // RFC 9051 §5.1: INBOX is case-insensitive.
    if (/^inbox(\/|$)/i.test(decoded)) decoded = `INBOX${decoded.slice(5)}`;
    return decoded;
  }

  encodeMailboxName(name: string): string {
    return this.enabled.utf8 ? name : encodeMutf7(name);
  }

  // — input —

  private maxLiteral(prefix: Buffer): number {
    if (this.state === 'notAuthenticated') return Math.max(0, PREAUTH_LITERAL - prefix.length);
    const words = prefix.toString('latin1', 0, Math.min(prefix.length, 80)).split(' ');
    // RFC 7889: APPENDLIMIT caps the message literal of APPEND.
    if (words[1]?.toUpperCase() === 'APPEND') return this.settings.maxMessageSize;
    return Math.max(0, this.options.maxCommandLiteral - prefix.length);
  }

  private onClose(): void {
    this.autologout.stop();
    this.unwatch?.();
    this.unwatch = null;
    this.state = 'logout';
    this.input.signal();
    this.closedResolve();
  }

  // — commands —

  private async loop(): Promise<void> {
    while (this.state !== 'logout') {
      const item = await this.input.next();
      if (!item) return;
      this.busy = true;
      try {
        if (item.kind === 'error') {
          // RFC 7888 §4 / RFC 7889: TOOBIG; RFC 9051 §4: a line over our limit.
          const status = item.code === 'TOOBIG' ? `NO [TOOBIG]` : 'BAD';
          this.write(`${item.tag ?? '*'} ${status} ${item.message}\r\n`);
        } else {
          await this.execute(item.data);
        }
      } finally {
        this.busy = false;
        // RFC 9051 §5.4: idle time counts from the end of the last command, not its start (a
        // login brake as long as the timeout would otherwise log the client out as it answers).
        this.autologout.touch();
      }
      this.connection.flush();
      await this.connection.drained();
    }
  }

  private async execute(data: Buffer): Promise<void> {
    await this.executeCommand(data);
    // STARTTLS or COMPRESS refused: what the client sent after it is ordinary input.
    this.input.settle(data);
  }

  private async executeCommand(data: Buffer): Promise<void> {
    let command: ImapCommand;
    try {
      command = parseCommand(data);
    } catch (err) {
      if (!(err instanceof ImapParseError)) this.logger.error({ err }, 'IMAP parser failed');
      const message = err instanceof ImapParseError ? err.message : 'Invalid command';
      this.write(`${err instanceof ImapParseError && err.tag ? err.tag : '*'} BAD ${message.replace(/[\r\n]+/g, ' ')}\r\n`);
      return;
    }
    const allowed = ANY_STATE.has(command.name) || (VALID_IN[command.name] ?? AUTHED).includes(this.state);
    if (!allowed) {
      this.tagged(command.tag, { status: 'BAD', text: `${command.name} is not valid in this state` });
      return;
    }
    const viewBefore = this.view;
    const condstoreBefore = this.enabled.condstore;
    let result: CommandResult | null;
    try {
      result = await this.dispatch(command);
    } catch (err) {
      result = toResult(err, this.logger, command.name);
    }
    if (result === null || this.connection.isClosed) return; // answered already (LOGOUT, STARTTLS …)
    const view = this.view;
    if (view && view === viewBefore) {
      // RFC 7162 §3.1: the first CONDSTORE enabling command while selected reports HIGHESTMODSEQ.
      if (!condstoreBefore && this.enabled.condstore) this.write(`* OK [HIGHESTMODSEQ ${view.modseq}] Highest\r\n`);
      await this.sendUpdates(view, allowsExpunge(command));
    }
    this.tagged(command.tag, result);
  }

  private tagged(tag: string, result: CommandResult): void {
    this.write(`${tag} ${result.status}${result.code ? ` [${result.code}]` : ''} ${result.text}\r\n`);
  }

  private async sendUpdates(view: SelectedMailbox, allowExpunge: boolean): Promise<void> {
    this.dirty = false;
    try {
      const lines = await view.update(this.service.store, this.enabled, allowExpunge);
      if (lines.length > 0) this.write(...lines);
    } catch (err) {
      this.logger.warn({ err }, 'could not read mailbox changes');
    }
  }

  private capabilities(): string {
    return capabilityLine({
      tls: this.connection.isTls,
      authenticated: this.currentUser !== null,
      compressed: this.connection.isCompressed,
      allowPlaintextAuth: this.options.allowPlaintextAuth,
      maxMessageSize: this.settings.maxMessageSize,
    });
  }

  private async dispatch(command: ImapCommand): Promise<CommandResult | null> {
    switch (command.name) {
      case 'CAPABILITY':
        this.write(`* CAPABILITY ${this.capabilities()}\r\n`);
        return { status: 'OK', text: 'CAPABILITY completed' };
      case 'NOOP':
      case 'CHECK':
        return { status: 'OK', text: `${command.name} completed` };
      case 'LOGOUT':
        // RFC 9051 §6.1.3
        this.write('* BYE Sluice logging out\r\n');
        this.tagged(command.tag, { status: 'OK', text: 'LOGOUT completed' });
        this.state = 'logout';
        this.connection.end();
        return null;
      case 'ID':
        return handleId((line) => this.write(line));
      case 'STARTTLS':
        return this.startTls(command.tag);
      case 'LOGIN':
        return this.authenticated(await handleLogin(this.authSession(), command), command.tag);
      case 'AUTHENTICATE':
        return this.authenticated(await handleAuthenticate(this.authSession(), command), command.tag);
      case 'ENABLE':
        return handleEnable(this.enabled, command, (line) => this.write(line));
      case 'COMPRESS':
        return this.compress(command.tag, command.mechanism);
      case 'NAMESPACE':
        return handleNamespace((line) => this.write(line));
      case 'SELECT':
      case 'EXAMINE':
        return handleSelect(this, command);
      case 'CREATE':
        return handleCreate(this, command);
      case 'DELETE':
        return handleDelete(this, command);
      case 'RENAME':
        return handleRename(this, command);
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE':
        return handleSubscribe(this, command);
      case 'LIST':
        return handleList(this, command);
      case 'LSUB':
        return handleLsub(this, command);
      case 'STATUS':
        return handleStatus(this, command);
      case 'APPEND':
        return handleAppend(this, command);
      case 'GETQUOTA':
        return handleGetQuota(this, command);
      case 'GETQUOTAROOT':
        return handleGetQuotaRoot(this, command);
      case 'SETQUOTA':
        return handleSetQuota();
      case 'CLOSE':
        return handleClose(this);
      case 'UNSELECT':
        return handleUnselect(this);
      case 'IDLE':
        return this.idle();
      default:
        return this.selectedCommand(command);
    }
  }

  private async selectedCommand(command: SelectedCommand): Promise<CommandResult> {
    const view = this.view;
    if (!view) return { status: 'BAD', text: 'No mailbox selected' };
    const context: ImapContext = {
      user: this.user,
      service: this.service,
      selected: view,
      enabled: this.enabled,
      logger: this.logger,
      write: (...chunks) => this.write(...chunks),
      decodeMailboxName: (name) => this.decodeMailboxName(name),
      encodeMailboxName: (name) => this.encodeMailboxName(name),
    };
    return runSelectedCommand(context, command);
  }

  // — authentication, TLS, compression —

  private authSession() {
    return {
      authenticator: this.options.authenticator,
      remoteAddress: this.connection.remoteAddress,
      plaintextAllowed: this.connection.isTls || this.options.allowPlaintextAuth,
      write: (line: string) => this.write(line),
      flush: () => this.connection.flush(),
      readLine: async () => {
        const item = await this.input.next();
        return item?.kind === 'command' ? item.data : item ? Buffer.from('*') : null;
      },
    };
  }

  private authenticated(outcome: AuthOutcome, tag: string): CommandResult | null {
    if (outcome.user) {
      this.currentUser = outcome.user;
      this.state = 'authenticated';
      this.logger.info({ user: outcome.user.id }, 'IMAP login');
      this.unwatch = this.service.watch(outcome.user.id, () => {
        this.dirty = true;
        this.input.signal();
      });
      // RFC 9051 §6.2.3: the capabilities change after login; say so in the OK.
      return { ...outcome.result, code: `CAPABILITY ${this.capabilities()}` };
    }
    if (outcome.failed && ++this.authFailures >= this.options.maxAuthFailures) {
      this.tagged(tag, outcome.result);
      this.shutdown('Too many failed authentication attempts');
      return null;
    }
    return outcome.result;
  }

  // RFC 9051 §6.2.1
  private async startTls(tag: string): Promise<CommandResult | null> {
    if (this.connection.isTls) {
      return { status: 'BAD', text: 'TLS is already active' };
    }
    this.tagged(tag, { status: 'OK', text: 'Begin TLS negotiation now' });
    // Input the client sent after STARTTLS, before the handshake, is discarded.
    this.input.restart();
    try {
      await this.connection.startTls(this.options.secureContext);
    } catch (err) {
      this.logger.info({ err }, 'STARTTLS handshake failed');
      this.connection.destroy();
    }
    return null;
  }

  // RFC 4978 §3
  private compress(tag: string, mechanism: string): CommandResult | null {
    if (mechanism.toUpperCase() !== 'DEFLATE') {
      return { status: 'BAD', text: `Unknown compression mechanism ${mechanism}` };
    }
    if (this.connection.isCompressed) {
      return { status: 'NO', code: 'COMPRESSIONACTIVE', text: 'DEFLATE is already active' };
    }
    this.tagged(tag, { status: 'OK', text: 'DEFLATE active' });
    this.connection.flush();
    this.connection.startCompression();
    for (const chunk of this.input.restart()) this.connection.receiveRaw(chunk);
    return null;
  }

  // — IDLE (RFC 2177, RFC 9051 §6.3.13) —

  private async idle(): Promise<CommandResult | null> {
    this.write('+ idling\r\n');
    this.connection.flush();
    this.dirty = true;
    this.busy = false; // RFC 9051 §5.4: an idling client is still subject to autologout
    for (;;) {
      const item = this.input.shift();
      if (item) {
        if (item.kind === 'command' && item.data.toString('latin1').trim().toUpperCase() === 'DONE') {
          return { status: 'OK', text: 'IDLE terminated' };
        }
        return { status: 'BAD', text: 'Expected DONE' };
      }
      if (this.connection.isClosed) return null;
      if (this.dirty && this.view) {
        await this.sendUpdates(this.view, true);
        this.connection.flush();
        continue;
      }
      this.dirty = false;
      await this.input.waitSignal();
    }
  }
}

/**
 * RFC 9051 §7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH by sequence number (the
 * client's numbers would shift under it); COPY, SORT and THREAD by number likewise.
 */
function allowsExpunge(command: ImapCommand): boolean {
  switch (command.name) {
    case 'FETCH':
    case 'STORE':
    case 'SEARCH':
    case 'SORT':
    case 'THREAD':
    case 'COPY':
      return command.uid;
    default:
      return true;
  }
}
