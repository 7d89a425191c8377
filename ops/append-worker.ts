/**
 * The log append thread (append-thread.ts): appends each request to the embedded log on its own
 * connection, in group commits fsynced before they are visible, and answers once durable.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import type { AppendWorkerData, FromAppendWorker, ToAppendWorker } from './append-thread.ts';
import { answerProduce } from './produce-requests.ts';

if (!parentPort) throw new Error('append-worker.ts runs as a worker thread');
const port = parentPort;
const send = (message: FromAppendWorker): void => port.postMessage(message);
const { path } = workerData as AppendWorkerData;

let opened: EmbeddedLog | null = null;
try {
  opened = new EmbeddedLog({ path });
} catch (err) {
  send({ failed: err instanceof Error ? err.message : String(err) });
  port.close();
}
if (opened) serve(opened);

function serve(log: EmbeddedLog): void {
  const inflight = new Set<Promise<void>>();
  port.on('message', (message: ToAppendWorker) => {
    if ('produce' in message) {
      const done = answerProduce(log, message.produce).then((produced) => send({ produced }));
      inflight.add(done);
      void done.finally(() => inflight.delete(done));
      return;
    }
    void (async () => {
      await Promise.all(inflight);
      await log.close();
      port.close();
    })();
  });
  send({ ready: true });
}
