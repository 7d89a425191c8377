/** The main thread's side of the pipeline thread: start it, relay log appends, metrics and push events, stop it. */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Metrics } from './metrics.ts';
import type { PushBus } from '../connectors/push/push.ts';
import type { Log } from '../connectors/log/log.ts';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import type { FromWorker, PipelineWorkerData, ToWorker } from './pipeline-messages.ts';

export interface PipelineThread {
  stop(): Promise<void>;
}

export async function startPipelineThread(deps: { config: Readonly<Config>; logger: Logger; metrics: Metrics; push: PushBus; log: Log }): Promise<PipelineThread> {
  const data: PipelineWorkerData = { module: new URL('./pipeline-worker.ts', import.meta.url).href, config: deps.config };
  const worker = new Worker(fileURLToPath(new URL('../bin/ts-worker.js', import.meta.url)), { workerData: data });
  const post = (message: ToWorker): void => worker.postMessage(message);
  let stopping = false;
  let stopped: () => void = () => undefined;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: FromWorker) => {
      if ('ready' in message) resolve();
      else if ('failed' in message) reject(new Error(`pipeline thread failed to start: ${message.failed}`));
      else if ('metrics' in message) {
        for (const [name, stage, value] of message.metrics) {
          if (name === 'retried') deps.metrics.retried(stage);
          else deps.metrics[name](stage, value as number);
        }
      } else if ('push' in message) deps.push.publish(message.push);
      else if ('applied' in message) deps.push.publishApplied(message.applied);
      else if ('appended' in message && deps.log instanceof EmbeddedLog) deps.log.notifyExternalAppend(message.appended);
      else if ('stopped' in message) stopped();
    });
    worker.once('error', (err) => {
      deps.logger.fatal({ err }, 'pipeline thread crashed');
      reject(err);
      // Acknowledged mail is safe in the log; without a pipeline nothing would be stored: stop loudly.
      if (!stopping) process.exit(70);
    });
  });
  const unsubscribe = deps.log instanceof EmbeddedLog ? deps.log.onAppend((topics) => post({ appended: topics })) : () => undefined;
  await ready;

  return {
    async stop() {
      if (stopping) return exited;
      stopping = true;
      unsubscribe();
      await new Promise<void>((resolve) => {
        stopped = resolve;
        post({ stop: true });
        void exited.then(resolve);
      });
      await exited;
    },
  };
}
