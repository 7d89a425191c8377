/**
 * A guard around one gap of @platformatic/kafka 1.35 (the last line for Node 20): a client asks
 * its connection pool for `metadata.brokers.get(id)` without checking that the broker is still in
 * the cluster metadata. When it is not (the group coordinator's broker was just killed, so the
 * metadata no longer lists it), the pool reads `broker.host` of `undefined` and throws a
 * TypeError from inside a socket callback: nothing can catch it, and the process dies (seen in
 * the stack crash test: a stages process exiting with 70 a moment after a broker's SIGKILL).
 *
 * Guarded, the request fails with a retriable NetworkError instead, as if the broker did not
 * answer: the client's retries run, then its caller sees the error (GroupMembership joins again
 * with a fresh client, the runner retries its batch).
 */
import { ConnectionPool, NetworkError } from '@platformatic/kafka';
import type { Broker, CallbackWithPromise, Connection } from '@platformatic/kafka';

type Get = (this: ConnectionPool, broker: Broker, callback?: CallbackWithPromise<Connection>) => Promise<Connection> | void;

const GUARDED = Symbol.for('sluice.kafka.pool-guard');

/** Installs the guard once per process (idempotent). */
export function guardConnectionPool(): void {
  const proto = ConnectionPool.prototype as unknown as { get: Get; [GUARDED]?: true };
  if (proto[GUARDED]) return;
  const get = proto.get;
  proto.get = function guardedGet(this: ConnectionPool, broker: Broker, callback?: CallbackWithPromise<Connection>) {
    if (broker && typeof broker.host === 'string') return get.call(this, broker, callback);
    const error = new NetworkError('the broker is not in the cluster metadata (down or just removed)');
    if (!callback) return Promise.reject(error);
    callback(error, undefined as unknown as Connection);
  };
  proto[GUARDED] = true;
}

guardConnectionPool();
