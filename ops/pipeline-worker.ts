/**
 * The pipeline thread: runs every stage of the topologies (DESIGN.md §1.5: every core works,
 * not just the event loop's) while the main thread serves the listeners. It opens its own
 * connections to the engines of `engines.*` (the data folder's files by default); the main thread tells it when others appended to the log,
 * and it sends back its metrics, its push events and the answers to the main thread's appends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openApp, type App } from './app.ts';
import { createLogger } from './logger.ts';
import { TopologyRunner, type RunnerMetrics } from '../topology/runner.ts';
import { PROCESSORS } from '../processors/index.ts';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import type { PushBus } from '../connectors/push/push.ts';
import type { FromWorker, MetricCall, PipelineWorkerData, ToWorker } from './pipeline-messages.ts';
import { answerProduce } from './produce-requests.ts';

if (!parentPort) throw new Error('pipeline-worker.ts runs as a worker thread');
const port = parentPort;
const { config } = workerData as PipelineWorkerData;
const send = (message: FromWorker): void => port.postMessage(message);

const logger = createLogger({ level: config.log.level, name: 'sluice-pipeline' });
const failed = (err: unknown): void => send({ failed: err instanceof Error ? (err.stack ?? err.message) : String(err) });
// An engine that does not answer: the main thread reports it (its own openApp fails first,
// unless the engine went away in between); with its port closed this thread ends.
// This thread makes every append of the process (the main thread's through `produce` messages)
// and runs every consumer of the log: its appends are fsynced off the thread, and its consumers
// see them once durable (EmbeddedLogOptions.syncOnPool). The search index's writes (the index
// stage's, ~1.5 ms a message) are made by a thread of their own, beside the other stages.
const opened = await openApp(config, logger, { logSyncOnPool: true, searchWriterThread: true }).catch((err: unknown) => {
  failed(err);
  port.close();
  return null;
});
if (opened) run(opened);

function run(app: App): void {
  /** Metric calls are sent in one message per turn of the event loop. */
  let pending: MetricCall[] = [];
  const queue = (call: MetricCall): void => {
    if (pending.length === 0) setImmediate(() => {
      send({ metrics: pending });
      pending = [];
    });
    pending.push(call);
  };
  const metrics: RunnerMetrics = {
    processed: (stage, n) => queue(['processed', stage, n]),
    deadLettered: (stage, n) => queue(['deadLettered', stage, n]),
    batchSeconds: (stage, s) => queue(['batchSeconds', stage, s]),
    sinceReceived: (stage, s) => queue(['sinceReceived', stage, s]),
    retried: (stage) => queue(['retried', stage]),
    ownedPartitions: (stage, n) => queue(['ownedPartitions', stage, n]),
    rebalanced: (stage) => queue(['rebalanced', stage]),
  };
  const push: PushBus = {
    publish: (event) => send({ push: event }),
    subscribe: () => () => undefined,
    subscribeAll: () => () => undefined,
    publishApplied: (event) => send({ applied: event }),
    subscribeApplied: () => () => undefined,
  };

  const runner = new TopologyRunner({
    log: app.log,
    topologies: app.topologies,
    processors: PROCESSORS,
    resources: { ...app.resources(), push },
    logger,
    batchSize: config.runner.batchSize,
    pollTimeoutMs: config.runner.pollTimeout,
    lingerMs: config.runner.linger,
    metrics,
  });

  if (app.log instanceof EmbeddedLog) {
    const log = app.log;
    // Appends made elsewhere in the process (the SMTP append thread, the main thread's own) wake
    // the stages at once. This thread's own appends are not told to the main thread: nothing
    // there waits on the log while the stages run here (a consumer would still see them at its
    // next check of the file), and each message woke the main thread for nothing, several times
    // per IMAP STORE.
    port.on('message', (message: ToWorker) => {
      if ('appended' in message) log.notifyExternalAppend(message.appended);
    });
  }
  // The main thread's appends, in this thread's group commits (`logWithAppendsBy`).
  port.on('message', (message: ToWorker) => {
    if ('produce' in message) void answerProduce(app.log, message.produce).then((produced) => send({ produced }));
  });
  port.on('message', (message: ToWorker) => {
    if (!('stop' in message)) return;
    void (async () => {
      await runner.stop();
      await app.close();
      send({ stopped: true });
      port.close();
    })();
  });

  runner.start().then(() => send({ ready: true }), failed);
}
