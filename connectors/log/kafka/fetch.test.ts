import { describe, expect, it } from 'vitest';
import { decodePartition } from './fetch.ts';

// Record batches as Kafka 4.1.1 returned them to a read_uncommitted Fetch (2026-12-07): a plain
// record, a transaction of producer 61 interleaved with another producer's record, its ABORT
// marker, then a committed transaction of the same producer and its COMMIT marker.
const TRANSACTIONAL = 16;
const CONTROL = 32;
function batch(firstOffset: number, attributes: number, producerId: number, values: string[]) {
  return {
    firstOffset: BigInt(firstOffset),
    length: 0,
    partitionLeaderEpoch: 0,
    magic: 2,
    crc: 0,
    attributes,
    lastOffsetDelta: values.length - 1,
    firstTimestamp: 1_000n,
    maxTimestamp: 1_000n,
    producerId: BigInt(producerId),
    producerEpoch: 0,
    firstSequence: 0,
    records: values.map((v, i) => ({ length: 0, attributes: 0, timestampDelta: BigInt(i), offsetDelta: i, key: Buffer.from('k'), value: Buffer.from(v), headers: [] as [Buffer | null, Buffer | null][] })),
  };
}
const batches = [
  batch(0, 0, 60, ['before']),
  batch(1, TRANSACTIONAL, 61, ['ab1', 'ab2']),
  batch(3, 0, 60, ['mid']),
  batch(4, TRANSACTIONAL, 61, ['ab3']),
  batch(5, TRANSACTIONAL | CONTROL, 61, ['\0\0\0\0\0\0']),
  batch(6, TRANSACTIONAL, 61, ['ok']),
  batch(7, TRANSACTIONAL | CONTROL, 61, ['\0\0\0\0\0\0']),
];
const part = (from: number) => ({
  partitionIndex: 0,
  errorCode: 0,
  highWatermark: 8n,
  lastStableOffset: 8n,
  logStartOffset: 0n,
  abortedTransactions: [{ producerId: 61n, firstOffset: 1n }],
  preferredReadReplica: -1,
  records: batches.filter((b) => b.firstOffset + BigInt(b.lastOffsetDelta) >= BigInt(from)),
});
const asked = (offset: number) => ({ topic: 't', topicId: 'id', partition: 0, offset });

describe('decodePartition (read_committed walk, KIP-98)', () => {
  it('leaves out the aborted transaction and the markers, keeps the rest in offset order', () => {
    const got = decodePartition(asked(0), part(0));
    expect(got.records.map((r) => [r.offset, r.value.toString()])).toEqual([[0, 'before'], [3, 'mid'], [6, 'ok']]);
    expect(got.next).toBe(8);
  });

  it('starting inside a batch skips the records before the requested offset', () => {
    expect(decodePartition(asked(4), part(4)).records.map((r) => r.offset)).toEqual([6]);
    expect(decodePartition(asked(8), { ...part(8), records: undefined }).next).toBe(8);
  });

  it('decodes key, headers and timestamps; a partition error returns nothing and keeps the offset', () => {
    const [first] = decodePartition(asked(0), part(0)).records;
    expect(first).toMatchObject({ topic: 't', partition: 0, key: 'k', headers: {}, timestamp: 1000 });
    expect(decodePartition(asked(3), { ...part(3), errorCode: 1 })).toMatchObject({ records: [], next: 3, errorCode: 1 });
  });
});
