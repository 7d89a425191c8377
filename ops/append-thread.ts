/**
 * The thread that makes the SMTP listeners' appends (mail received on the MX, mail submitted)
 * to the embedded log, with a connection of its own (append-worker.ts). Each 250 waits for its
 * append to be durable. Made by the pipeline thread, that append waited behind whatever stage
 * work held the thread (on the send bench, ~15 ms at the median against ~1 ms of its own); made
 * here, it waits only for its commit. The commit is `synchronous = FULL`: the record is durable
 * before any other connection can read it, so the stages never see an append a power cut could
 * take back. The pipeline thread is then told, so its stages wake at once.
 *
 * IMAP and POP3 changes still go through the pipeline thread (`PipelineThread.produce`): the
 * store stage that answers them runs there.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ProduceRecord, RecordPosition } from '../connectors/log/log.ts';
import type { ProduceReply, ProduceRequest } from './pipeline-messages.ts';
import { ProduceRequests } from './produce-requests.ts';

export interface AppendWorkerData {
  readonly module: string;
  /** The embedded log's file. */
  readonly path: string;
}

export type ToAppendWorker = { readonly produce: ProduceRequest } | { readonly stop: true };
export type FromAppendWorker = { readonly ready: true } | { readonly produced: ProduceReply } | { readonly failed: string };

export interface AppendThread {
  /** Resolves once durable, as `Log.produce`; then `appended` has been called with the records' topics. */
  produce(records: readonly ProduceRecord[]): Promise<RecordPosition[]>;
  /** Ends the thread once the appends it was given are made. */
  stop(): Promise<void>;
}

export async function startAppendThread(deps: { path: string; logger: Logger; appended: (topics: string[]) => void }): Promise<AppendThread> {
  const data: AppendWorkerData = { module: new URL('./append-worker.ts', import.meta.url).href, path: deps.path };
  const worker = new Worker(fileURLToPath(new URL('../bin/ts-worker.js', import.meta.url)), { workerData: data });
  const post = (message: ToAppendWorker): void => worker.postMessage(message);
  const producing = new ProduceRequests((request) => post({ produce: request }));
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  void exited.then(() => producing.failAll(new Error('the log append thread has stopped')));
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: FromAppendWorker) => {
      if ('ready' in message) resolve();
      else if ('failed' in message) reject(new Error(`log append thread failed to start: ${message.failed}`));
      else producing.settle(message.produced);
    });
    worker.once('error', (err) => {
      deps.logger.error({ err }, 'log append thread crashed');
      reject(err);
    });
    void exited.then(() => reject(new Error('the log append thread exited before it was ready')));
  });
  await ready;

  return {
    async produce(records) {
      if (stopping) throw new Error('the log append thread is stopping');
      const positions = await producing.send(records);
      deps.appended([...new Set(positions.map((p) => p.topic))]);
      return positions;
    },
    async stop() {
      if (!stopping) {
        stopping = true;
        post({ stop: true });
      }
      await exited;
    },
  };
}
