/**
 * The POP3 server (issue 3 item 2): RFC 1939 with CAPA (RFC 2449), UIDL, TOP, USER/PASS,
 * AUTH PLAIN (RFC 5034) and STLS (RFC 2595), over the `MailboxService`. One server object serves
 * both listeners — `listen.pop3` (STLS) and `listen.pop3s` (implicit TLS) — so the maildrop lock
 * (RFC 1939 §8) holds across them.
 */
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.ts';
import type { MailboxService } from '../mailbox-service.ts';
import { processMaildropLocks, type MaildropLocks } from './maildrop-lock.ts';
import { Pop3Session } from './session.ts';

export interface Pop3ServerOptions {
  readonly service: MailboxService;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  readonly tls: { readonly key: Buffer | string; readonly cert: Buffer | string };
  /** Our host name (logs; the certificate is the operator's). */
  readonly hostname: string;
  /** USER/PASS and AUTH before STLS (RFC 2595 §4 advises against it); false refuses them with `[AUTH]`. */
  readonly allowPlaintextAuth: boolean;
  /** RFC 1939 §3: the autologout timer, at least 10 minutes; default 10 minutes (shorter only for tests). */
  readonly idleTimeoutMs?: number;
  /** Longest command line accepted (octets); default 8 KiB (RFC 2449 §4 asks for 255, AUTH lines run longer). */
  readonly maxLineLength?: number;
  /** The maildrop locks (RFC 1939 §8); default the process-wide table. */
  readonly locks?: MaildropLocks;
}

export interface Pop3Server {
  /** Starts a listener; `implicitTls` for pop3s (TLS from the first byte), else STLS is offered. */
  listen(port: number, host: string, implicitTls: boolean): Promise<AddressInfo>;
  /** Stops the listeners and cuts open sessions (without the UPDATE state: nothing is deleted). */
  close(): Promise<void>;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60 * 1000;
const DEFAULT_MAX_LINE_LENGTH = 8192;

export function createPop3Server(options: Pop3ServerOptions): Pop3Server {
  const logger = options.logger.child({ component: 'pop3' });
  const secureContext = tls.createSecureContext({ key: options.tls.key, cert: options.tls.cert });
  const servers: net.Server[] = [];
  const sessions = new Set<Pop3Session>();
  const deps = {
    service: options.service,
    authenticator: options.authenticator,
    logger,
    secureContext,
    allowPlaintextAuth: options.allowPlaintextAuth,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    locks: options.locks ?? processMaildropLocks,
    maxLineLength: options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH,
  };

  function serve(socket: net.Socket, implicitTls: boolean): void {
    const session = new Pop3Session(socket, deps, socket.remoteAddress ?? 'unknown');
    sessions.add(session);
    session
      .run(implicitTls)
      .catch((err: unknown) => logger.error({ err }, 'pop3 session failed'))
      .finally(() => sessions.delete(session));
  }

  return {
    listen(port, host, implicitTls) {
      const server = net.createServer((socket) => serve(socket, implicitTls));
      servers.push(server);
      return new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          server.on('error', (err) => logger.error({ err }, 'pop3 listener error'));
          const address = server.address() as AddressInfo;
          logger.info({ address, implicitTls, hostname: options.hostname }, 'pop3 listening');
          resolve(address);
        });
      });
    },
    async close() {
      const closing = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      for (const session of sessions) session.destroy();
      await Promise.all(closing);
    },
  };
}
