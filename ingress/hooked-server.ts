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
