import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { pino } from 'pino';
import { SqliteMailStore } from '../../connectors/store/sqlite.ts';
import { hashPassword } from '../../ops/password.ts';
import { LoginLimiter } from './login-limiter.ts';
import { PasswordAuthenticator } from './password-authenticator.ts';

const logger = pino({ level: 'silent' });
let dir: string;
let store: SqliteMailStore;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
  store = new SqliteMailStore({ path: path.join(dir, 'mail.db') });
  await store.addDomain('example.test');
  await store.addUser('alice@example.test', await hashPassword('correct horse'));
});

afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function timed<T>(work: Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await work;
  return [value, performance.now() - start];
}

describe('PasswordAuthenticator', () => {
  it('returns the user for the right password, in any address case', async () => {
    const auth = new PasswordAuthenticator({ store, logger });
    expect((await auth.login('Alice@Example.test', 'correct horse', '127.0.0.1'))?.id).toBe('alice@example.test');
  });

  it('refuses a wrong password, an empty one and an unknown user alike', async () => {
    const auth = new PasswordAuthenticator({ store, logger, limiter: new LoginLimiter({ freeFailures: 100 }) });
    expect(await auth.login('alice@example.test', 'wrong', '127.0.0.1')).toBeNull();
    expect(await auth.login('alice@example.test', '', '127.0.0.1')).toBeNull();
    const [unknown, ms] = await timed(auth.login('nobody@example.test', 'wrong', '127.0.0.1'));
    expect(unknown).toBeNull();
    expect(ms).toBeGreaterThan(5); // the dummy scrypt ran
  });

  it('remembers a success (cheap repeat) but never a failure', async () => {
    const auth = new PasswordAuthenticator({ store, logger, limiter: new LoginLimiter({ freeFailures: 100 }) });
    const [, first] = await timed(auth.login('alice@example.test', 'correct horse', '127.0.0.1'));
    const [user, second] = await timed(auth.login('alice@example.test', 'correct horse', '127.0.0.1'));
    expect(user).not.toBeNull();
    expect(second).toBeLessThan(first);
    expect(await auth.login('alice@example.test', 'correct horsE', '127.0.0.1')).toBeNull();
    expect(await auth.login('alice@example.test', 'correct horsE', '127.0.0.1')).toBeNull();
  });

  it('delays answers after failures, for unknown users the same as for known ones', async () => {
    const limiter = new LoginLimiter({ freeFailures: 1, baseDelayMs: 150 });
    const auth = new PasswordAuthenticator({ store, logger, limiter });
    await auth.login('alice@example.test', 'bad', '192.0.2.1');
    const [, known] = await timed(auth.login('alice@example.test', 'bad', '192.0.2.2'));
    expect(known).toBeGreaterThanOrEqual(145);
    await auth.login('ghost@example.test', 'bad', '192.0.2.3');
    const [, unknown] = await timed(auth.login('ghost@example.test', 'bad', '192.0.2.4'));
    expect(unknown).toBeGreaterThanOrEqual(145);
    // The right password still works (after the delay) and clears the address.
    expect(await auth.login('alice@example.test', 'correct horse', '192.0.2.5')).not.toBeNull();
    expect(limiter.delayFor('alice@example.test', '192.0.2.6')).toBe(0);
  });
});
