/**
 * The `access` role of `sluice serve`: IMAP and POP3 over the read model (store, index, blobs),
 * changes through `mailbox.commands`, answered from the push bus once the store stage applied them.
 * Without the stages in this process, the push bus is fed from the log (`connectors/push/log-feed.ts`:
 * the input topic of the topologies' `push` stage, read from its end by a group of this process).
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
import { startLogPushFeed, type LogPushFeed } from '../connectors/push/log-feed.ts';
import { withoutReadCaching } from '../connectors/blob/read-cache.ts';

export interface AccessDeps {
  readonly app: App;
  /** Where changes are appended (the app's log, or the pipeline thread's, see RunningStages.log). */
  readonly log: Log;
  /** Where the store stage's events arrive. */
  readonly push: PushBus;
  readonly tls: { key: string; cert: string };
  readonly authenticator: Authenticator;
  /** The stages run in another process: read their events from the log onto `push`. */
  readonly feedFromLog: boolean;
}

/** The topics the topologies' push stages read (`mailbox.events`). */
function pushTopics(app: App): string[] {
  return [...new Set(app.topologies.flatMap((t) => t.stages.filter((s) => s.processor === 'push').map((s) => s.from)))];
}

export async function startAccess({ app, log, push, tls, authenticator, feedFromLog }: AccessDeps): Promise<RunningListeners> {
  const { config, logger } = app;
  const feeds: LogPushFeed[] = [];
  if (feedFromLog) {
    const topics = pushTopics(app);
    if (topics.length === 0) logger.warn('no push stage in the topologies: IMAP IDLE will not wake, and changes will not be answered');
    try {
      for (const topic of topics) {
        feeds.push(await startLogPushFeed({ log: app.log, push, topic, logger: logger.child({ component: 'push-feed' }), pollTimeoutMs: config.runner.pollTimeout }));
      }
    } catch (err) {
      await Promise.all(feeds.map((f) => f.stop()));
      throw err;
    }
  }
  const service = new LogMailboxService({
    log,
    store: app.store,
    search: app.search,
    // Clients open random messages: reads that miss are not kept (see withoutReadCaching).
    blobs: withoutReadCaching(app.blobs),
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
    await Promise.all(feeds.map((f) => f.stop()));
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
