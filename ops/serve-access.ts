/**
 * The `access` role of `sluice serve`: IMAP and POP3 over the read model (store, index, blobs),
 * changes through `mailbox.commands`, answered from the push bus once the store stage applied them.
 */
import type { App } from './app.ts';
import type { Log } from '../connectors/log/log.ts';
import type { PushBus } from '../connectors/push/push.ts';
import type { Authenticator } from '../access/auth/authenticator.ts';
import { splitHostPort } from './config.ts';
import { LogMailboxService } from '../access/service.ts';
import { createImapServer } from '../access/imap/server.ts';
import { createPop3Server } from '../access/pop3/server.ts';
import type { RunningListeners } from './serve-ingress.ts';

export interface AccessDeps {
  readonly app: App;
  /** Where changes are appended (the app's log, or the pipeline thread's, see RunningStages.log). */
  readonly log: Log;
  /** Where the store stage's events arrive. */
  readonly push: PushBus;
  readonly tls: { key: string; cert: string };
  readonly authenticator: Authenticator;
}

export async function startAccess({ app, log, push, tls, authenticator }: AccessDeps): Promise<RunningListeners> {
  const { config, logger } = app;
  const service = new LogMailboxService({
    log,
    store: app.store,
    search: app.search,
    blobs: app.blobs,
    push,
    logger: logger.child({ component: 'access' }),
  });
  const imap = createImapServer({
    service,
    authenticator,
    logger: logger.child({ listener: 'imap' }),
    tls,
    hostname: config.hostname,
    allowPlaintextAuth: config.auth.allowPlaintext,
    maxMessageSize: config.imap.appendLimit,
    idleTimeoutMs: config.imap.idleTimeout,
    quotaBytes: config.quota.storage ?? null,
  });
  const pop3 = createPop3Server({
    service,
    authenticator,
    logger: logger.child({ listener: 'pop3' }),
    tls,
    hostname: config.hostname,
    allowPlaintextAuth: config.auth.allowPlaintext,
    idleTimeoutMs: config.pop3.idleTimeout,
  });
  const close = async () => {
    await Promise.all([imap.close(), pop3.close()]);
    service.close();
  };
  const listeners: Record<string, string> = {};
  try {
    for (const [name, server, implicitTls] of [
      ['imap', imap, false],
      ['imaps', imap, true],
      ['pop3', pop3, false],
      ['pop3s', pop3, true],
    ] as const) {
      const at = splitHostPort(config.listen[name]);
      const address = await server.listen(at.port, at.host, implicitTls);
      listeners[name] = `${at.host}:${address.port}`;
    }
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { listeners, close };
}
