/**
 * The IMAP listeners (issue 3 item 1): `listen.imap` with STARTTLS (RFC 9051 §6.2.1) and
 * `listen.imaps` with implicit TLS (RFC 8314 §3.2), one `ImapSession` per connection.
 */
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.ts';
import type { MailboxService } from '../mailbox-service.ts';
import { ImapSession } from './session.ts';

export interface ImapServerOptions {
  readonly service: MailboxService;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  readonly tls: { readonly key: Buffer | string; readonly cert: Buffer | string };
  readonly hostname: string;
  /** LOGIN and AUTHENTICATE before TLS (otherwise LOGINDISABLED, RFC 9051 §6.2.3). */
  readonly allowPlaintextAuth: boolean;
  /** APPENDLIMIT (RFC 7889), bytes. */
  readonly maxMessageSize: number;
  /** Autologout once authenticated (default 30 min, the least RFC 9051 §5.4 allows). */
  readonly idleTimeoutMs?: number;
  /** Autologout before authentication (default 60 s). */
  readonly preauthTimeoutMs?: number;
  /** QUOTA STORAGE limit per user in bytes (RFC 9208); null or absent: no quota. */
  readonly quotaBytes?: number | null;
  /** QUOTA MESSAGE limit per user; null or absent: not reported. */
  readonly quotaMessages?: number | null;
  /** Longest command line (default 64 KiB). */
  readonly maxLineLength?: number;
  /** Largest literal of a command other than APPEND (default 1 MiB). */
  readonly maxCommandLiteral?: number;
  /** Failed authentications per connection before `* BYE` (default 3). */
  readonly maxAuthFailures?: number;
  /** Simultaneous connections per listener (default 1000). */
  readonly maxConnections?: number;
}

export interface ImapServer {
  /** Listens on `host:port`; call it once per listener (imap, imaps). */
  listen(port: number, host: string, implicitTls: boolean): Promise<AddressInfo>;
  /** Stops listening and says `* BYE` to every session. */
  close(): Promise<void>;
  /** Open sessions. */
  readonly sessionCount: number;
}

export function createImapServer(options: ImapServerOptions): ImapServer {
  const secureContext = tls.createSecureContext({ key: options.tls.key, cert: options.tls.cert });
  const sessions = new Set<ImapSession>();
  const servers: net.Server[] = [];
  const logger = options.logger.child({ component: 'imap' });
  const sessionOptions = {
    service: options.service,
    authenticator: options.authenticator,
    logger,
    secureContext,
    allowPlaintextAuth: options.allowPlaintextAuth,
    idleTimeoutMs: options.idleTimeoutMs ?? 30 * 60_000,
    preauthTimeoutMs: options.preauthTimeoutMs ?? 60_000,
    maxLineLength: options.maxLineLength ?? 64 * 1024,
    maxCommandLiteral: options.maxCommandLiteral ?? 1024 * 1024,
    maxAuthFailures: options.maxAuthFailures ?? 3,
    settings: {
      hostname: options.hostname,
      maxMessageSize: options.maxMessageSize,
      quotaBytes: options.quotaBytes ?? null,
      quotaMessages: options.quotaMessages ?? null,
    },
  };
  let closing = false;

  function serve(socket: net.Socket, implicitTls: boolean): void {
    if (closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const session = new ImapSession(socket, implicitTls, sessionOptions);
    sessions.add(session);
    void session.closed.then(() => sessions.delete(session));
    void session.run();
  }

  return {
    get sessionCount() {
      return sessions.size;
    },

    listen(port, host, implicitTls) {
      const server = implicitTls
        ? tls.createServer({ key: options.tls.key, cert: options.tls.cert }, (socket) => serve(socket, true))
        : net.createServer((socket) => serve(socket, false));
      server.maxConnections = options.maxConnections ?? 1000;
      server.on('tlsClientError', (err) => logger.debug({ err }, 'IMAPS handshake failed'));
      servers.push(server);
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          server.on('error', (err) => logger.error({ err }, 'IMAP listener error'));
          resolve(server.address() as AddressInfo);
        });
      });
    },

    async close() {
      closing = true;
      const stopped = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      for (const session of sessions) session.shutdown('Server shutting down');
      const ended = Promise.all([...sessions].map((s) => s.closed));
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
      await Promise.all(stopped);
    },
  };
}
