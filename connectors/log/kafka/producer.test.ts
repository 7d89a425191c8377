import { describe, expect, it } from 'vitest';
import { chunkByBytes, messageBytes, type KafkaMessage } from './producer.ts';

const message = (i: number, size: number): KafkaMessage => ({
  topic: 't',
  partition: i % 2,
  key: Buffer.from(`k${i}`),
  value: Buffer.alloc(size),
  headers: new Map([[Buffer.from('h'), Buffer.from('v')]]),
});

describe('chunkByBytes: one send per run of messages under max.message.bytes', () => {
  it('256 records of 5 KB (a stage catching up) go out in runs of at most 768 KiB, in order', () => {
    const messages = Array.from({ length: 256 }, (_, i) => message(i, 5_000));
    const chunks = chunkByBytes(messages);
    expect(chunks.length).toBe(2);
    for (const c of chunks) expect(c.reduce((n, m) => n + messageBytes(m), 0)).toBeLessThanOrEqual(768 * 1024);
    expect(chunks.flat()).toEqual(messages);
  });

  it('a small batch stays one send; a message larger than the limit goes alone', () => {
    expect(chunkByBytes([message(1, 10), message(2, 10)])).toHaveLength(1);
    const big = message(3, 2_000);
    expect(chunkByBytes([message(1, 10), big, message(2, 10)], 1_000)).toEqual([[message(1, 10)], [big], [message(2, 10)]]);
    expect(chunkByBytes([])).toEqual([]);
  });
});
