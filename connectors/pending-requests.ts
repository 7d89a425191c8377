/**
 * Requests sent to another thread and waiting for its answers: each gets a number, its answer
 * settles it, and a thread that goes away fails every one still waiting. Used on the asking side
 * of the worker threads (the search index's writer and readers, the log's appending threads).
 */
export class PendingRequests<T> {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (value: T) => void; reject: (error: Error) => void }>();

  /** Requests still waiting for their answer. */
  get size(): number {
    return this.waiting.size;
  }

  /** Numbers a new request and sends it (`post`); resolves with its answer. */
  send(post: (id: number) => void): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      post(id);
    });
  }

  resolve(id: number, value: T): void {
    this.take(id)?.resolve(value);
  }

  reject(id: number, error: Error): void {
    this.take(id)?.reject(error);
  }

  /** The thread is gone: every request still waiting fails with `error`. */
  failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  private take(id: number): { resolve: (value: T) => void; reject: (error: Error) => void } | undefined {
    const waiter = this.waiting.get(id);
    this.waiting.delete(id);
    return waiter;
  }
}
