/** The main thread's side of the pipeline thread: start it, relay log appends to it, its metrics and push events from it, stop it. */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Metrics } from './metrics.ts';
import type { PushBus } from '../connectors/push/push.ts';
import type { Log, ProduceRecord, RecordPosition } from '../connectors/log/log.ts';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import type { FromWorker, PipelineWorkerData, ToWorker } from './pipeline-messages.ts';
import { ProduceRequests } from './produce-requests.ts';

export interface PipelineThread {
  stop(): Promise<void>;
  /**
   * Appends through the pipeline thread's connection to the embedded log (the access
   * listeners' mailbox commands): this thread never blocks on the log's fsync, and the appends
   * share group commits with the stages' own (the store stage that answers them wakes in that
   * thread at once). Resolves once durable, as `Log.produce`.
   */
  produce(records: readonly ProduceRecord[]): Promise<RecordPosition[]>;
  /** Another connection of this process appended to `topics` (append-thread.ts): the stages waiting on them wake now. */
  tellAppended(topics: string[]): void;
}

/** `log` with its appends made by another thread (`PipelineThread.produce`, `AppendThread.produce`); reads stay on this connection. */
export function logWithAppendsBy(log: Log, thread: Pick<PipelineThread, 'produce'>): Log {
  return {
    ensureTopics: (specs) => log.ensureTopics(specs),
    produce: (records) => thread.produce(records),
    consumer: (group, topics) => log.consumer(group, topics),
    read: (topic, partition, offset, max) => log.read(topic, partition, offset, max),
    topics: () => log.topics(),
    endOffsets: (topic) => log.endOffsets(topic),
    committed: (group, topic) => log.committed(group, topic),
    lag: (group, topics) => log.lag(group, topics),
    enforceRetention: (now) => log.enforceRetention(now),
    health: () => log.health(),
    close: () => log.close(),
  };
}

export async function startPipelineThread(deps: { config: Readonly<Config>; logger: Logger; metrics: Metrics; push: PushBus; log: Log }): Promise<PipelineThread> {
  const data: PipelineWorkerData = { module: new URL('./pipeline-worker.ts', import.meta.url).href, config: deps.config };
  const worker = new Worker(fileURLToPath(new URL('../bin/ts-worker.js', import.meta.url)), { workerData: data });
  const post = (message: ToWorker): void => worker.postMessage(message);
  let stopping = false;
  const producing = new ProduceRequests((request) => post({ produce: request }));
  let stopped: () => void = () => undefined;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  void exited.then(() => producing.failAll(new Error('the pipeline thread has stopped')));

  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: FromWorker) => {
      if ('ready' in message) resolve();
      else if ('failed' in message) reject(new Error(`pipeline thread failed to start: ${message.failed}`));
      else if ('metrics' in message) {
        for (const [name, stage, value] of message.metrics) {
          if (name === 'retried' || name === 'rebalanced') deps.metrics[name](stage);
          else deps.metrics[name](stage, value as number);
        }
      } else if ('push' in message) deps.push.publish(message.push);
      else if ('applied' in message) deps.push.publishApplied(message.applied);
      else if ('produced' in message) producing.settle(message.produced);
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
    produce(records) {
      if (stopping) return Promise.reject(new Error('the pipeline thread is stopping'));
      return producing.send(records);
    },
    tellAppended(topics) {
      if (!stopping) post({ appended: topics });
    },
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
