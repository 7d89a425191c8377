/**
 * `sluice serve`: opens the connectors, starts the pipeline (in a worker thread of its own by
 * default), then the listeners (SMTP MX, submission, IMAP, POP3, HTTP), and prints one `ready {…}` line on stdout with
 * the bound addresses.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { splitHostPort } from './config.ts';
import { openApp, type App } from './app.ts';
import { Metrics } from './metrics.ts';
import { createHttpServer } from './http.ts';
import { TopologyRunner } from '../topology/runner.ts';
import { PROCESSORS } from '../processors/index.ts';
import { createMxServer } from '../ingress/smtp-mx.ts';
import { createSubmissionServer } from '../ingress/submission.ts';
import { SubmissionLimits } from '../ingress/submission-limits.ts';
import { watchOutboundQueue } from './outbound-metrics.ts';
import { queueTopics } from './queue.ts';
import { ensureTlsCertificate } from '../ingress/tls.ts';
import { schemaType } from '../schemas/registry.ts';
import type { MailOutbound, MailReceived } from '../schemas/types.ts';
import { writeServerPid, removeServerPid } from './server-lock.ts';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { logThroughPipeline, startPipelineThread } from './pipeline-thread.ts';
import { LogMailboxService } from '../access/service.ts';
import { PasswordAuthenticator } from '../access/auth/password-authenticator.ts';
import { createImapServer } from '../access/imap/server.ts';
import { createPop3Server } from '../access/pop3/server.ts';
import { reportScanners } from './scan.ts';
import { watchOps } from './dashboard/wire.ts';

export interface RunningServer {
  readonly app: App;
  readonly metrics: Metrics;
  /** Bound address of each listener, e.g. { smtp: '127.0.0.1:2525' }. */
  readonly listeners: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

function tlsFor(config: Readonly<Config>, logger: Logger): { key: string; cert: string } {
  if (config.tls.cert && config.tls.key) return { cert: readFileSync(config.tls.cert, 'utf8'), key: readFileSync(config.tls.key, 'utf8') };
  const made = ensureTlsCertificate(config.dataDir, config.hostname);
  if (made.created) logger.warn({ dir: join(config.dataDir, 'tls') }, 'no TLS certificate configured: made a self-signed one');
  return { key: made.key, cert: made.cert };
}

/** The stages on this thread (`runner.thread: false`). */
async function startInProcess(app: App, metrics: Metrics): Promise<{ stop(): Promise<void> }> {
  const { config, logger } = app;
  const runner = new TopologyRunner({
    log: app.log,
    topologies: app.topologies,
    processors: PROCESSORS,
    resources: app.resources(),
    logger,
    batchSize: config.runner.batchSize,
    pollTimeoutMs: config.runner.pollTimeout,
    lingerMs: config.runner.linger,
    metrics,
  });
  await runner.start();
  return runner;
}

export async function serve(config: Readonly<Config>, logger: Logger): Promise<RunningServer> {
  const app = await openApp(config, logger);
  const metrics = new Metrics();
  const ops = watchOps(app, metrics);
  watchOutboundQueue(metrics.registry, app.log, queueTopics(app.topologies));
  reportScanners(config, logger, metrics);
  const thread = config.runner.thread ? await startPipelineThread({ config, logger, metrics, push: app.push, log: app.log }) : null;
  const pipeline = thread ?? (await startInProcess(app, metrics));
  // The listeners' appends: with the embedded log, written by the pipeline thread's connection
  // (one writer of log.db per process, see PipelineThread.produce).
  const log = thread && app.log instanceof EmbeddedLog ? logThroughPipeline(app.log, thread) : app.log;

  const receivedType = schemaType('MailReceived');
  const tls = tlsFor(config, logger);
  const mx = createMxServer({
    log,
    blobs: app.blobs,
    store: app.store,
    logger: logger.child({ listener: 'smtp' }),
    hostname: config.hostname,
    maxSize: config.smtp.maxSize,
    maxRecipients: config.smtp.maxRecipients,
    idleTimeoutMs: config.smtp.idleTimeout,
    reverseLookup: config.smtp.reverseLookup,
    greetingDelayMs: config.smtp.greetingDelay,
    postmaster: config.postmaster,
    metrics: {
      accepted: (recipients) => {
        metrics.smtpMessages.inc({ listener: 'smtp', outcome: 'accepted' });
        metrics.smtpRecipients.inc({ listener: 'smtp' }, recipients);
      },
      rejected: (code) => metrics.smtpMessages.inc({ listener: 'smtp', outcome: code >= 500 ? 'rejected' : 'deferred' }),
    },
    tls,
    encode: (value: MailReceived) => receivedType.toBuffer(value),
  });
  const smtpAt = splitHostPort(config.listen.smtp);
  const smtp = await mx.listen(smtpAt.port, smtpAt.host);

  // Mailbox access: IMAP and POP3 over the read model, changes through mailbox.commands.
  const service = new LogMailboxService({
    log,
    store: app.store,
    search: app.search,
    blobs: app.blobs,
    push: app.push,
    logger: logger.child({ component: 'access' }),
  });
  const authenticator = new PasswordAuthenticator({ store: app.store, logger: logger.child({ component: 'auth' }) });
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
  // Submission (RFC 6409): 587 with STARTTLS, 465 with implicit TLS (RFC 8314 §3.3).
  const outboundType = schemaType('MailOutbound');
  const submission = createSubmissionServer({
    log,
    blobs: app.blobs,
    store: app.store,
    authenticator,
    logger: logger.child({ listener: 'submission' }),
    hostname: config.hostname,
    tls,
    maxSize: config.smtp.maxSize,
    maxRecipients: config.submission.maxRecipients,
    limits: new SubmissionLimits({ ...config.submission.rateLimit, windowMs: config.submission.rateLimit.window }),
    idleTimeoutMs: config.smtp.idleTimeout,
    metrics: {
      accepted: (recipients) => {
        metrics.smtpMessages.inc({ listener: 'submission', outcome: 'accepted' });
        metrics.smtpRecipients.inc({ listener: 'submission' }, recipients);
      },
      rejected: (code) => metrics.smtpMessages.inc({ listener: 'submission', outcome: code >= 500 ? 'rejected' : 'deferred' }),
    },
    encodeReceived: (value: MailReceived) => receivedType.toBuffer(value),
    encodeOutbound: (value: MailOutbound) => outboundType.toBuffer(value),
  });
  const bound: Record<string, string> = {};
  for (const name of ['submission', 'submissions'] as const) {
    const at = splitHostPort(config.listen[name]);
    const address = await submission.listen(at.port, at.host, name === 'submissions');
    bound[name] = `${at.host}:${address.port}`;
  }
  for (const [name, server, implicitTls] of [
    ['imap', imap, false],
    ['imaps', imap, true],
    ['pop3', pop3, false],
    ['pop3s', pop3, true],
  ] as const) {
    const at = splitHostPort(config.listen[name]);
    const address = await server.listen(at.port, at.host, implicitTls);
    bound[name] = `${at.host}:${address.port}`;
  }

  const http = createHttpServer({ metrics, logger, ops });
  const httpAt = splitHostPort(config.listen.http);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(httpAt.port, httpAt.host, () => resolve());
  });
  const httpPort = (http.address() as AddressInfo).port;

  const retention = setInterval(() => {
    app.log.enforceRetention().catch((err: unknown) => logger.error({ err }, 'retention failed'));
  }, config.runner.retentionInterval);
  retention.unref();

  writeServerPid(config.dataDir);
  const listeners = { smtp: `${smtpAt.host}:${smtp.port}`, ...bound, http: `${httpAt.host}:${httpPort}` };
  logger.info({ listeners, dataDir: config.dataDir, topologies: app.topologies.map((t) => t.name) }, 'sluice ready');

  let closing: Promise<void> | undefined;
  return {
    app,
    metrics,
    listeners,
    close() {
      closing ??= (async () => {
        clearInterval(retention);
        await mx.close();
        await submission.close();
        await Promise.all([imap.close(), pop3.close()]);
        service.close();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        await pipeline.stop();
        await app.close();
        removeServerPid(config.dataDir);
      })();
      return closing;
    },
  };
}
