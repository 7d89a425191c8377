/**
 * The `stages` role of `sluice serve`: the topology runner (in a worker thread of its own by
 * default, `runner.thread`), the log's retention loop, and the metrics read from the log (consumer
 * lag, dead letters, the outgoing queue). It also marks the data folder as served
 * (`server-lock.ts`): tools that append to the log know a running pipeline will process it.
 */
import type { App } from './app.ts';
import type { Metrics } from './metrics.ts';
import type { Log } from '../connectors/log/log.ts';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { TopologyRunner } from '../topology/runner.ts';
import { PROCESSORS } from '../processors/index.ts';
import { logWithAppendsBy, startPipelineThread } from './pipeline-thread.ts';
import { startAppendThread } from './append-thread.ts';
import { watchOutboundQueue } from './outbound-metrics.ts';
import { queueTopics } from './queue.ts';
import { reportScanners } from './scan.ts';
import { removeServerPid, writeServerPid } from './server-lock.ts';

export interface RunningStages {
  /**
   * The log the access listeners (IMAP, POP3, JMAP) append to: with the embedded log and the
   * pipeline thread, their appends are made by that thread's connection (`logWithAppendsBy`).
   */
  readonly log: Log;
  /** The log the SMTP listeners append to: there, appends are made by a thread of their own (append-thread.ts). */
  readonly ingressLog: Log;
  stop(): Promise<void>;
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

export async function startStages(app: App, metrics: Metrics): Promise<RunningStages> {
  const { config, logger } = app;
  watchOutboundQueue(metrics.registry, app.log, queueTopics(app.topologies));
  reportScanners(config, logger, metrics);
  const thread = config.runner.thread ? await startPipelineThread({ config, logger, metrics, push: app.push, log: app.log }) : null;
  const pipeline = thread ?? (await startInProcess(app, metrics));
  // The listeners' appends: with the embedded log, written by the pipeline thread's connection
  // (see PipelineThread.produce), or for SMTP by the append thread's (see AppendThread).
  const embedded = app.log instanceof EmbeddedLog ? app.log : null;
  const log = thread && embedded ? logWithAppendsBy(embedded, thread) : app.log;
  const appender =
    thread && embedded
      ? await startAppendThread({ path: embedded.path, logger, appended: (topics) => thread.tellAppended(topics) }).catch(async (err: unknown) => {
          await pipeline.stop();
          throw err;
        })
      : null;
  const ingressLog = appender && embedded ? logWithAppendsBy(embedded, appender) : log;

  const retention = setInterval(() => {
    app.log.enforceRetention().catch((err: unknown) => logger.error({ err }, 'retention failed'));
  }, config.runner.retentionInterval);
  retention.unref();
  writeServerPid(config.dataDir);

  return {
    log,
    ingressLog,
    async stop() {
      clearInterval(retention);
      await appender?.stop();
      await pipeline.stop();
      removeServerPid(config.dataDir);
    },
  };
}
