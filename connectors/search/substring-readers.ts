/**
 * Threads that answer IMAP substring matches off the calling thread, each with its own read-only
 * connection to the search index file (substring-reader-worker.ts). A SEARCH TEXT on a large
 * mailbox spends most of its time in one FTS5 query (~1 ms on 10,000 messages); run on the thread
 * that serves every IMAP session, eight concurrent searches wait for each other and every other
 * session waits for them. Here the queries of concurrent searches run side by side, on other cores.
 *
 * A request goes to the ready thread with the fewest requests outstanding. Until a thread is ready
 * (~0.4 s to load) and once every thread is gone, `match` returns null and the caller answers on
 * its own thread. A thread that dies fails its outstanding requests with `NoReaderError` (the
 * caller answers those itself too) and leaves the pool.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { SubstringMatch } from './substring.ts';
import { PendingRequests } from '../pending-requests.ts';

export interface ReaderWorkerData {
  readonly module: string;
  /** The search index's SQLite file. */
  readonly path: string;
}

export interface ReaderRequest {
  readonly id: number;
  readonly userId: string;
  readonly mailboxId: number;
  readonly match: SubstringMatch;
}

export type ReaderReply = { readonly id: number; readonly uids: number[] } | { readonly id: number; readonly error: string };

/** No reader thread is left to ask. */
export class NoReaderError extends Error {}

interface Reader {
  readonly worker: Worker;
  readonly waiting: PendingRequests<Set<number>>;
  /** It has opened the file and answers. */
  ready: boolean;
}

export class SubstringReaders {
  private readonly readers: Reader[] = [];
  private readonly started: Promise<void>[] = [];
  private closing = false;

  /** Starts `count` threads on the search index file at `path` (which must exist: the index opens it first). */
  constructor(path: string, count: number) {
    const data: ReaderWorkerData = { module: new URL('./substring-reader-worker.ts', import.meta.url).href, path };
    const bootstrap = fileURLToPath(new URL('../../bin/ts-worker.js', import.meta.url));
    for (let i = 0; i < count; i++) this.add(new Worker(bootstrap, { workerData: data }));
  }

  /** Threads ready to answer. */
  get size(): number {
    return this.readers.filter((r) => r.ready).length;
  }

  /** Resolves once every thread is ready or gone. */
  async whenStarted(): Promise<void> {
    await Promise.all(this.started);
  }

  /**
   * The UIDs matching `match` in one mailbox (`SubstringTable.match`, on a reader thread), or
   * null when no thread is ready to answer.
   */
  match(userId: string, mailboxId: number, match: SubstringMatch): Promise<Set<number>> | null {
    if (this.closing) return null;
    let reader: Reader | undefined;
    for (const r of this.readers) if (r.ready && (!reader || r.waiting.size < reader.waiting.size)) reader = r;
    if (!reader) return null;
    const chosen = reader;
    return chosen.waiting.send((id) => chosen.worker.postMessage({ id, userId, mailboxId, match } satisfies ReaderRequest));
  }

  /** Ends every thread once it has answered what it was asked. */
  async close(): Promise<void> {
    this.closing = true;
    const exits = this.readers.map((r) => new Promise<void>((resolve) => r.worker.once('exit', () => resolve())));
    for (const r of this.readers) r.worker.postMessage('close');
    await Promise.all(exits);
  }

  private add(worker: Worker): void {
    const reader: Reader = { worker, waiting: new PendingRequests<Set<number>>(), ready: false };
    this.readers.push(reader);
    let started: () => void = () => undefined;
    this.started.push(new Promise<void>((resolve) => (started = resolve)));
    // The threads never keep the process alive on their own.
    worker.unref();
    worker.on('message', (reply: ReaderReply | 'ready') => {
      if (reply === 'ready') {
        reader.ready = true;
        started();
        return;
      }
      if ('error' in reply) reader.waiting.reject(reply.id, new Error(reply.error));
      else reader.waiting.resolve(reply.id, new Set(reply.uids));
    });
    const gone = (err: Error): void => {
      started();
      const at = this.readers.indexOf(reader);
      if (at >= 0) this.readers.splice(at, 1);
      reader.waiting.failAll(err);
    };
    worker.once('error', (err) => gone(new NoReaderError(`search reader thread failed: ${err.message}`)));
    worker.once('exit', (code) => gone(new NoReaderError(`search reader thread exited (${code})`)));
  }
}
