/**
 * A thread that makes the embedded search index's writes (`SqliteSearchIndex` with
 * `writerThread`), with its own connection to the file (index-writer-worker.ts). Indexing a
 * message is mostly FTS5 work in SQLite (~1.5 ms for 5 KB of text, two thirds of it the trigram
 * table): on the pipeline thread it held every other stage for that long per message. Here the
 * pipeline thread posts the documents and goes on; the call resolves once the thread's write is
 * durable, as `SearchIndex.index` promises. The thread runs at a lower priority (`WRITER_NICE`):
 * under load the cores go to the threads that take, store and send mail first, and the index
 * catches up when they idle (the send bench's delivered rate at 4 connections: ~+10%).
 *
 * Requests run in the order they are made. A thread that fails to start or dies fails its
 * outstanding requests with `NoWriterError` and leaves for good: the caller then writes on its
 * own connection, as without the thread (every write is idempotent, so one that may have been
 * made before the thread died is made again harmlessly).
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { DocumentCopy, Relocation, SearchDocument } from './search.ts';
import { PendingRequests } from '../pending-requests.ts';

export interface WriterWorkerData {
  readonly module: string;
  /** The search index's SQLite file (it exists: the caller's connection made it). */
  readonly path: string;
}

/**
 * The writer thread's nice value on Linux (index-writer-worker.ts sets it). At 10, CFS gives it
 * about a tenth of what a thread at 0 gets when they compete for a core, and all of an idle one.
 */
export const WRITER_NICE = 10;

/** One write of the SearchIndex interface. */
export type WriterCall =
  | { readonly op: 'index'; readonly docs: readonly SearchDocument[] }
  | { readonly op: 'remove'; readonly messageKeys: readonly string[] }
  | { readonly op: 'relocate'; readonly moves: readonly Relocation[] }
  | { readonly op: 'copy'; readonly copies: readonly DocumentCopy[] };

export type WriterRequest = WriterCall & { readonly id: number };

export type WriterReply = { readonly id: number } | { readonly id: number; readonly error: string };

/** The writer thread is gone (or never started): write on the caller's connection. */
export class NoWriterError extends Error {}

export class SearchWriterThread {
  private readonly worker: Worker;
  private readonly pending = new PendingRequests<void>();
  private gone: NoWriterError | null = null;
  private readonly exited: Promise<void>;

  /** Starts the thread on the search index file at `path`. */
  constructor(path: string) {
    const data: WriterWorkerData = { module: new URL('./index-writer-worker.ts', import.meta.url).href, path };
    this.worker = new Worker(fileURLToPath(new URL('../../bin/ts-worker.js', import.meta.url)), { workerData: data });
    // The thread never keeps the process alive on its own.
    this.worker.unref();
    this.worker.on('message', (reply: WriterReply) => {
      if ('error' in reply) this.pending.reject(reply.id, new Error(reply.error));
      else this.pending.resolve(reply.id);
    });
    this.worker.once('error', (err) => this.leave(new NoWriterError(`search writer thread failed: ${err.message}`)));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.leave(new NoWriterError(`search writer thread exited (${code})`));
        resolve();
      }),
    );
  }

  /** Runs `call` on the thread; rejects with `NoWriterError` if the thread is gone or goes before answering. */
  run(call: WriterCall): Promise<void> {
    if (this.gone) return Promise.reject(this.gone);
    return this.pending.send((id) => this.worker.postMessage({ ...call, id } satisfies WriterRequest));
  }

  /** Ends the thread once it has made the writes it was given. */
  async close(): Promise<void> {
    if (!this.gone) this.worker.postMessage('close');
    await this.exited;
  }

  private leave(err: NoWriterError): void {
    this.gone ??= err;
    this.pending.failAll(this.gone);
  }
}
