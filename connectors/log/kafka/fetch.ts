/**
 * Fetching records from Kafka partitions by explicit assignment (no consumer-group membership),
 * read_committed: the one path by which `KafkaLog.read()` and `KafkaConsumer.poll()` see records.
 *
 * A read_committed Fetch returns records up to the last stable offset together with the list of
 * aborted transactions in that range; leaving the aborted records out is the client's job (KIP-98;
 * the same walk as the Java consumer's `Fetcher`): an aborted transaction starts at its
 * `firstOffset` and ends at its producer's next control batch (the ABORT marker). Control batches
 * (transaction markers) take offsets but carry no records for the application. Kafka 4.1.1 was
 * seen leaving aborted batches out of read_committed responses by itself; the protocol does not
 * promise it (the aborted list is still sent for the client to apply), so the walk stays.
 */
import { FetchIsolationLevels, IS_CONTROL, IS_TRANSACTIONAL, NetworkError, kGetApi, kGetConnection, kMetadata, kPerformWithRetry } from '@platformatic/kafka';
import type { Callback, Connection, Consumer as FetchClient, fetchV17 } from '@platformatic/kafka';
import type { LogRecord } from '../log.ts';

type FetchResponse = fetchV17.FetchResponse;
type FetchResponsePartition = fetchV17.FetchResponsePartition;

/** Kafka protocol error codes this module acts on. */
export const OFFSET_OUT_OF_RANGE = 1;

export interface PartitionToFetch {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly offset: number;
}

export interface PartitionFetched {
  readonly topic: string;
  readonly partition: number;
  /** Committed, non-control records at or after the requested offset, in offset order. */
  readonly records: LogRecord[];
  /** Where the next fetch of this partition starts (past markers and aborted records too). */
  readonly next: number;
  /** 0, or the partition's Kafka error code (e.g. OFFSET_OUT_OF_RANGE). */
  readonly errorCode: number;
  /** Last stable offset: read_committed readers see nothing at or past it yet. */
  readonly lastStable: number;
}

export interface FetchLimits {
  /** How long the broker may wait for a first byte (long poll). */
  readonly maxWaitMs: number;
  readonly maxBytes?: number;
  readonly partitionMaxBytes?: number;
  /**
   * Default read_committed. read_uncommitted also returns the records of aborted and open
   * transactions: only for tests that show what read_committed hides (stack-crash test).
   */
  readonly readUncommitted?: boolean;
}

/**
 * One Fetch request to broker `node` for `partitions` (all led by it). Partition errors are
 * returned per partition, not thrown; a request that fails as a whole throws.
 */
export async function fetchFrom(
  client: FetchClient,
  node: number,
  partitions: readonly PartitionToFetch[],
  limits: FetchLimits,
): Promise<PartitionFetched[]> {
  const byTopic = new Map<string, PartitionToFetch[]>();
  for (const p of partitions) byTopic.set(p.topicId, [...(byTopic.get(p.topicId) ?? []), p]);
  const partitionMaxBytes = limits.partitionMaxBytes ?? 1 << 20;
  let response: FetchResponse;
  try {
    response = await fetchRequest(client, node, {
      maxWaitTime: Math.max(0, Math.floor(limits.maxWaitMs)),
      minBytes: 1,
      maxBytes: limits.maxBytes ?? 8 << 20,
      isolationLevel: limits.readUncommitted ? FetchIsolationLevels.READ_UNCOMMITTED : FetchIsolationLevels.READ_COMMITTED,
      topics: [...byTopic].map(([topicId, list]) => ({
        topicId,
        partitions: list.map((p) => ({
          partition: p.partition,
          currentLeaderEpoch: -1,
          fetchOffset: BigInt(p.offset),
          lastFetchedEpoch: -1,
          partitionMaxBytes,
        })),
      })),
    });
  } catch (err) {
    // A partition error comes as an error carrying the whole parsed response.
    const carried = (err as { response?: FetchResponse }).response;
    if (!carried?.responses) throw err;
    response = carried;
  }
  const wanted = new Map(partitions.map((p) => [`${p.topicId}:${p.partition}`, p]));
  const out: PartitionFetched[] = [];
  for (const topicResponse of response.responses) {
    for (const part of topicResponse.partitions) {
      const asked = wanted.get(`${topicResponse.topicId}:${part.partitionIndex}`);
      if (!asked) continue;
      out.push(decodePartition(asked, part));
    }
  }
  return out;
}

type FetchTopics = fetchV17.FetchRequestTopic[];
interface FetchArguments {
  readonly maxWaitTime: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly isolationLevel: number;
  readonly topics: FetchTopics;
}
type FetchApi = (
  connection: Connection,
  maxWaitMs: number,
  minBytes: number,
  maxBytes: number,
  isolationLevel: number,
  sessionId: number,
  sessionEpoch: number,
  topics: FetchTopics,
  forgottenTopicsData: unknown[],
  rackId: string,
  callback: Callback<FetchResponse>,
) => void;

/**
 * The Fetch request to broker `node`, as the client's own `Consumer.fetch` sends it (its metadata,
 * connection pool, negotiated API version and retries), but without that method's read_committed
 * filter: in @platformatic/kafka 1.35 it throws, inside a socket callback where nothing can catch
 * it, on an ABORT marker of a transaction that wrote no record to the partition (the transaction
 * added the partition, its producer died before producing there, the coordinator aborted it:
 * Kafka lists no aborted range for it, and the filter looks the producer up in that list). A stages
 * process died of it in the crash test. decodePartition leaves aborted records out instead.
 */
function fetchRequest(client: FetchClient, node: number, request: FetchArguments): Promise<FetchResponse> {
  return new Promise<FetchResponse>((resolve, reject) => {
    client[kPerformWithRetry]<FetchResponse>(
      'fetch',
      (done) => {
        client[kMetadata]({ topics: [] }, (error, metadata) => {
          if (error || !metadata) return done(error ?? new NetworkError('no cluster metadata'));
          const broker = metadata.brokers.get(node);
          if (!broker) return done(new NetworkError(`broker ${node} is not in the cluster metadata`));
          client[kGetConnection](broker, (error, connection) => {
            if (error || !connection) return done(error ?? new NetworkError(`no connection to broker ${node}`));
            client[kGetApi]<Parameters<FetchApi>, FetchResponse>('Fetch', (error, api) => {
              if (error) return done(error);
              const { maxWaitTime, minBytes, maxBytes, isolationLevel, topics } = request;
              (api as unknown as FetchApi)(connection, maxWaitTime, minBytes, maxBytes, isolationLevel, 0, 0, topics, [], '', done);
            });
          });
        });
      },
      (error, response) => (error ? reject(error) : resolve(response!)),
      0,
    );
  });
}

/** One partition of a read_committed Fetch response, decoded: see the module comment. */
export function decodePartition(asked: PartitionToFetch, part: FetchResponsePartition): PartitionFetched {
  const { topic, partition, offset: from } = asked;
  const base = { topic, partition, errorCode: part.errorCode, lastStable: Number(part.lastStableOffset) };
  if (part.errorCode !== 0) return { ...base, records: [], next: from };
  const aborted = [...(part.abortedTransactions ?? [])].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1));
  const abortedProducers = new Set<bigint>();
  const records: LogRecord[] = [];
  let next = from;
  for (const batch of part.records ?? []) {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    while (aborted.length > 0 && aborted[0].firstOffset <= last) abortedProducers.add(aborted.shift()!.producerId);
    if (Number(last) + 1 > next) next = Number(last) + 1;
    if (batch.attributes & IS_CONTROL) {
      // The marker that ends this producer's transaction (commit or abort).
      abortedProducers.delete(batch.producerId);
      continue;
    }
    if (batch.attributes & IS_TRANSACTIONAL && abortedProducers.has(batch.producerId)) continue;
    for (const r of batch.records) {
      const offset = Number(batch.firstOffset) + r.offsetDelta;
      if (offset < from) continue;
      const headers: Record<string, string> = {};
      for (const [k, v] of r.headers) if (k) headers[k.toString('utf8')] = v ? v.toString('utf8') : '';
      records.push({
        topic,
        partition,
        offset,
        key: r.key ? r.key.toString('utf8') : '',
        value: r.value ?? Buffer.alloc(0),
        headers,
        timestamp: Number(batch.firstTimestamp + r.timestampDelta),
      });
    }
  }
  return { ...base, records, next };
}
