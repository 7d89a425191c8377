import { describe, expect, it } from 'vitest';
import { ConnectionPool } from '@platformatic/kafka';
import type { Broker } from '@platformatic/kafka';
import './pool-guard.ts';

// The library's own pool, guarded: asking it for a broker the metadata no longer lists (what a
// client does right after that broker died) is an error to the caller, not a TypeError thrown.
describe('Kafka connection-pool guard', () => {
  it('fails the request with a retriable network error when the broker is missing (callback)', async () => {
    const pool = new ConnectionPool('sluice-pool-guard-test');
    try {
      const error = await new Promise<Error | null>((resolve) => {
        expect(() => pool.get(undefined as unknown as Broker, (err) => resolve(err))).not.toThrow();
      });
      expect(error?.message).toMatch(/not in the cluster metadata/);
      expect((error as Error & { canRetry?: boolean }).canRetry).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('rejects the promise form too', async () => {
    const pool = new ConnectionPool('sluice-pool-guard-test');
    try {
      await expect(pool.get(undefined as unknown as Broker)).rejects.toThrow(/not in the cluster metadata/);
    } finally {
      await pool.close();
    }
  });

  it('still connects to a broker that is there (a real socket on loopback)', async () => {
    const { createServer } = await import('node:net');
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const pool = new ConnectionPool('sluice-pool-guard-test');
    try {
      const connection = await pool.get({ host: '127.0.0.1', port });
      expect(connection).toBeDefined();
    } finally {
      await pool.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
