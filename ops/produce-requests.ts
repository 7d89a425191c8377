/**
 * Appends made by another thread's log connection: the requests and their replies, on both
 * sides of the thread's message port (pipeline-thread.ts, append-thread.ts).
 */
import type { Log, ProduceRecord, RecordPosition } from '../connectors/log/log.ts';
import type { ProduceReply, ProduceRequest } from './pipeline-messages.ts';

/** The asking side: numbers each request and settles it with its reply. */
export class ProduceRequests {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (p: RecordPosition[]) => void; reject: (e: Error) => void }>();

  constructor(private readonly post: (request: ProduceRequest) => void) {}

  /** Resolves once the other thread's append is durable, as `Log.produce`. */
  send(records: readonly ProduceRecord[]): Promise<RecordPosition[]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.post({ id, records });
    });
  }

  settle(reply: ProduceReply): void {
    const waiter = this.waiting.get(reply.id);
    this.waiting.delete(reply.id);
    if ('error' in reply) waiter?.reject(new Error(reply.error));
    else waiter?.resolve(reply.positions);
  }

  /** The other thread is gone: every request still waiting fails. */
  failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
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
