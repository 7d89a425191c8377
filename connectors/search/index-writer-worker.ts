/**
 * The search index's writer thread (index-writer.ts): makes each write it is given on its own
 * connection, in order, and answers once it is durable.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteSearchIndex } from './sqlite.ts';
import { WRITER_NICE, type WriterReply, type WriterRequest, type WriterWorkerData } from './index-writer.ts';

if (!parentPort) throw new Error('index-writer-worker.ts runs as a worker thread');
const port = parentPort;
const { path } = workerData as WriterWorkerData;
// Indexing is background work: when the cores are busy, the threads that take, store and send mail
// go first, and the index catches up when they are idle (IMAP SEARCH meanwhile reads what the index
// lacks from the mail store). On Linux the nice value belongs to a thread, so this one alone.
if (process.platform === 'linux') {
  try {
    setPriority(0, WRITER_NICE);
  } catch {
    // Not allowed here (a seccomp filter, say): the thread writes at the priority it has.
  }
}
const index = new SqliteSearchIndex({ path });

function write(request: WriterRequest): Promise<void> {
  switch (request.op) {
    case 'index':
      return index.index(request.docs);
    case 'remove':
      return index.remove(request.messageKeys);
    case 'relocate':
      return index.relocate(request.moves);
    case 'copy':
      return index.copy(request.copies);
  }
}

port.on('message', (request: WriterRequest | 'close') => {
  if (request === 'close') {
    // Every write given before has its transaction made (they run as they arrive); close waits for their fsyncs.
    void index.close().finally(() => port.close());
    return;
  }
  write(request).then(
    () => port.postMessage({ id: request.id } satisfies WriterReply),
    (err: unknown) => port.postMessage({ id: request.id, error: err instanceof Error ? err.message : String(err) } satisfies WriterReply),
  );
});
