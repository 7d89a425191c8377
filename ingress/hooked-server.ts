/**
 * An smtp-server `SMTPServer` that hands each new connection to `onConnection` once, before
 * it talks: the MX and submission listeners use it to rewrite replies into our error
 * catalogue (smtp-errors.ts) and to control the greeting.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export type SmtpConnection = SMTPServer['connections'] extends Set<infer C> ? C : never;

export function createHookedServer(options: SMTPServerOptions, onConnection: (connection: SmtpConnection) => void): SMTPServer {
  const hooked = new WeakSet<SmtpConnection>();
  class HookedSmtpServer extends SMTPServer {
    override connect(socket: Socket | TLSSocket, socketOptions?: Parameters<SMTPServer['connect']>[1]): void {
      super.connect(socket, socketOptions);
      // super.connect() just added the new connection; a Set keeps insertion order.
      let added: SmtpConnection | undefined;
      for (const connection of this.connections) added = connection;
      if (added && !hooked.has(added)) {
        hooked.add(added);
        onConnection(added);
      }
    }
  }
  return new HookedSmtpServer(options);
}

/**
 * Greets a plain connection after `delayMs` instead of smtp-server's fixed 100 ms pause (its own
 * timer then finds the greeting done); 100 ms or more leaves smtp-server's pause as it is.
 */
export function greetAfter(connection: SmtpConnection, delayMs: number): void {
  // A TLS connection (implicit TLS) is greeted once its handshake is done, with no pause.
  if (connection.needsUpgrade || delayMs >= 100) return;
  const ready = connection.connectionReady.bind(connection);
  let greeted = false;
  connection.connectionReady = (next) => {
    if (greeted) return;
    greeted = true;
    ready(next);
  };
  if (delayMs <= 0) connection.connectionReady();
  else setTimeout(() => connection.connectionReady(), delayMs).unref();
}
