/**
 * A thread that answers IMAP substring matches (`SubstringTable.match`) from its own read-only
 * connection to the search index file, so the FTS5 queries of many sessions' SEARCHes run beside
 * the thread that serves them (substring-readers.ts starts it).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SubstringTable } from './sqlite-substring.ts';
import { MMAP_BYTES } from '../sqlite-file.ts';
import type { ReaderReply, ReaderRequest, ReaderWorkerData } from './substring-readers.ts';

if (!parentPort) throw new Error('substring-reader-worker.ts runs as a worker thread');
const port = parentPort;
const { path } = workerData as ReaderWorkerData;

const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
db.pragma(`mmap_size = ${MMAP_BYTES}`);
const table = new SubstringTable(db);

port.on('message', (request: ReaderRequest | 'close') => {
  if (request === 'close') {
    db.close();
    port.close();
    return;
  }
  let reply: ReaderReply;
  try {
    // Ascending, as the caller answers (sorted here, off its thread).
    reply = { id: request.id, uids: [...table.match(request.userId, request.mailboxId, request.match)].sort((a, b) => a - b) };
  } catch (err) {
    reply = { id: request.id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
port.postMessage('ready');
