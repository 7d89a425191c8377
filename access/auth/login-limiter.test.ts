import { describe, it, expect } from 'vitest';
import { LoginLimiter } from './login-limiter.ts';

describe('LoginLimiter', () => {
  it('lets the first failures through, then doubles the delay up to the cap', () => {
    const limiter = new LoginLimiter({ freeFailures: 2, baseDelayMs: 1000, maxDelayMs: 15_000 });
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      delays.push(limiter.delayFor('alice@example.test', '192.0.2.1'));
      limiter.recordFailure('alice@example.test', '192.0.2.1');
    }
    expect(delays).toEqual([0, 0, 1000, 2000, 4000, 8000, 15_000, 15_000]);
  });

  it('counts per IP across addresses, and per address across IPs', () => {
    const limiter = new LoginLimiter({ freeFailures: 1, baseDelayMs: 500 });
    limiter.recordFailure('a@example.test', '192.0.2.1');
    limiter.recordFailure('b@example.test', '192.0.2.1');
    expect(limiter.delayFor('c@example.test', '192.0.2.1')).toBe(1000);
    expect(limiter.delayFor('c@example.test', '192.0.2.2')).toBe(0);
    expect(limiter.delayFor('A@Example.test', '198.51.100.7')).toBe(500);
  });

  it('counts loopback unless told not to', () => {
    const counted = new LoginLimiter({ freeFailures: 0, baseDelayMs: 100 });
    counted.recordFailure('a@example.test', '127.0.0.1');
    expect(counted.delayFor('b@example.test', '127.0.0.1')).toBe(100);
    const exempt = new LoginLimiter({ freeFailures: 0, baseDelayMs: 100, countLoopback: false });
    exempt.recordFailure('a@example.test', '127.0.0.1');
    expect(exempt.delayFor('b@example.test', '127.0.0.1')).toBe(0);
    expect(exempt.delayFor('a@example.test', '127.0.0.1')).toBe(100);
  });

  it('forgets after a quiet period, and a success clears the address', () => {
    let now = 0;
    const limiter = new LoginLimiter({ freeFailures: 0, baseDelayMs: 100, quietPeriodMs: 60_000, now: () => now });
    limiter.recordFailure('a@example.test', '192.0.2.1');
    expect(limiter.delayFor('a@example.test', '192.0.2.9')).toBe(100);
    now = 59_999;
    expect(limiter.delayFor('a@example.test', '192.0.2.9')).toBe(100);
    now = 60_000;
    expect(limiter.delayFor('a@example.test', '192.0.2.9')).toBe(0);
    limiter.recordFailure('a@example.test', '192.0.2.1');
    limiter.recordSuccess('a@example.test');
    expect(limiter.delayFor('a@example.test', '192.0.2.9')).toBe(0);
    expect(limiter.delayFor('b@example.test', '192.0.2.1')).toBe(100);
  });
});
