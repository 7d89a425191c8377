/**
 * `sluice serve`: checks the roles against the engines (`roles.ts`), opens the connectors, then
 * starts what this process's roles run — `stages` the pipeline (in a worker thread of its own by
 * default), `ingress` the SMTP MX and submission listeners, `access` IMAP and POP3 — and HTTP
 * (`/metrics`, `/healthz`) in every role, and prints one `ready {…}` line on stdout with its roles
 * and the bound addresses.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config, Role } from './config.ts';
import { splitHostPort } from './config.ts';
import { openApp, type App } from './app.ts';
import { Metrics } from './metrics.ts';
import { createHttpServer } from './http.ts';
import { ensureTlsCertificate } from '../ingress/tls.ts';
import { PasswordAuthenticator } from '../access/auth/password-authenticator.ts';
import { topicSpecs } from '../topology/runner.ts';
import { checkRoles, localEngines, runsAllRoles, runsRole } from './roles.ts';
import { startStages, type RunningStages } from './serve-stages.ts';
import { startIngress, type RunningListeners } from './serve-ingress.ts';
import { startAccess } from './serve-access.ts';
import { watchOps } from './dashboard/wire.ts';

export interface RunningServer {
  readonly app: App;
  readonly metrics: Metrics;
  readonly roles: readonly Role[];
  /** Bound address of each listener this process runs, e.g. { smtp: '127.0.0.1:2525' }. */
  readonly listeners: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

function tlsFor(config: Readonly<Config>, logger: Logger): { key: string; cert: string } {
  if (config.tls.cert && config.tls.key) return { cert: readFileSync(config.tls.cert, 'utf8'), key: readFileSync(config.tls.key, 'utf8') };
  const made = ensureTlsCertificate(config.dataDir, config.hostname);
  if (made.created) logger.warn({ dir: join(config.dataDir, 'tls') }, 'no TLS certificate configured: made a self-signed one');
  return { key: made.key, cert: made.cert };
}

export async function serve(config: Readonly<Config>, logger: Logger): Promise<RunningServer> {
  checkRoles(config);
  if (!runsAllRoles(config) && localEngines(config).length > 0) {
    logger.warn({ roles: config.roles, engines: localEngines(config) }, 'roles apart with engines in the data folder: only processes on this machine, on this data folder, share them');
  }
  // IMAP SEARCH's index queries run beside the thread that serves the sessions (substring-readers.ts).
  const app = await openApp(config, logger, { searchReaders: runsRole(config, 'access') ? Math.min(4, availableParallelism()) : 0 });
  const metrics = new Metrics();
  // Lag and engine health on /ops and /metrics in every role; throughput only where stages run.
  const ops = watchOps(app, metrics, { runsStages: runsRole(config, 'stages') });
  let stages: RunningStages | undefined;
  const parts: RunningListeners[] = [];
  const http = createHttpServer({ metrics, logger, ops });
  const stopAll = async () => {
    for (const part of parts.reverse()) await part.close();
    await new Promise<void>((resolve) => (http.listening ? http.close(() => resolve()) : resolve()));
    await stages?.stop();
    await app.close();
  };
  let httpAt: { host: string; port: number };
  try {
    if (runsRole(config, 'stages')) stages = await startStages(app, metrics);
    // Without the stages here, the topics may not exist yet: the listeners append to them.
    else await app.log.ensureTopics(topicSpecs(app.topologies));
    const log = stages?.log ?? app.log;
    if (runsRole(config, 'ingress') || runsRole(config, 'access')) {
      const tls = tlsFor(config, logger);
      const authenticator = new PasswordAuthenticator({ store: app.store, logger: logger.child({ component: 'auth' }) });
      if (runsRole(config, 'ingress')) parts.push(await startIngress({ app, log: stages?.ingressLog ?? app.log, metrics, tls, authenticator }));
      if (runsRole(config, 'access')) parts.push(await startAccess({ app, log, push: app.push, tls, authenticator, feedFromLog: !stages }));
    }
    httpAt = splitHostPort(config.listen.http);
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(httpAt.port, httpAt.host, () => resolve());
    });
  } catch (err) {
    await stopAll().catch((e: unknown) => logger.error({ err: e }, 'stopping after a failed start'));
    throw err;
  }
  const httpPort = (http.address() as AddressInfo).port;

  const listeners = Object.assign({}, ...parts.map((p) => p.listeners), { http: `${httpAt.host}:${httpPort}` }) as Record<string, string>;
  logger.info(
    { roles: config.roles, listeners, dataDir: config.dataDir, ...(stages ? { topologies: app.topologies.map((t) => t.name) } : {}) },
    'sluice ready',
  );

  let closing: Promise<void> | undefined;
  return {
    app,
    metrics,
    roles: config.roles,
    listeners,
    close() {
      closing ??= stopAll();
      return closing;
    },
  };
}
