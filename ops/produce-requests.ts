/**
 * Appends made by another thread's log connection: the requests and their replies, on both
 * sides of the thread's message port (pipeline-thread.ts, append-thread.ts).
 */
import type { Log, ProduceRecord, RecordPosition } from '../connectors/log/log.ts';
import type { ProduceReply, ProduceRequest } from './pipeline-messages.ts';
import { PendingRequests } from '../connectors/pending-requests.ts';

/** The asking side: numbers each request and settles it with its reply. */
export class ProduceRequests {
  private readonly pending = new PendingRequests<RecordPosition[]>();

  constructor(private readonly post: (request: ProduceRequest) => void) {}

  /** Resolves once the other thread's append is durable, as `Log.produce`. */
  send(records: readonly ProduceRecord[]): Promise<RecordPosition[]> {
    return this.pending.send((id) => this.post({ id, records }));
  }

  settle(reply: ProduceReply): void {
    if ('error' in reply) this.pending.reject(reply.id, new Error(reply.error));
    else this.pending.resolve(reply.id, reply.positions);
  }

  /** The other thread is gone: every request still waiting fails. */
  failAll(error: Error): void {
    this.pending.failAll(error);
  }
}

/** The answering side: appends one request's records and makes its reply. */
export function answerProduce(log: Log, request: ProduceRequest): Promise<ProduceReply> {
  // Buffers arrive as plain Uint8Arrays; the log takes either.
  return log.produce(request.records).then(
    (positions) => ({ id: request.id, positions }),
    (err: unknown) => ({ id: request.id, error: err instanceof Error ? err.message : String(err) }),
  );
}
