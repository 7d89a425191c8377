/**
 * `Authenticator` over the mail store's scrypt hashes (`ops/password.ts`), braked by the
 * `LoginLimiter`. An unknown address costs the same as a wrong password (a dummy scrypt run,
 * the same delay), so answers do not tell which addresses exist. scrypt takes ~50 ms, so recent
 * successful checks are remembered for a few minutes — keyed by an HMAC-SHA-256 (under a key
 * made at random per authenticator, never stored) of user, password and stored hash, never the
 * password itself, so a digest that leaks (a heap dump) cannot be tested against guesses
 * without that key; a changed password or hash no longer matches; failures are never remembered.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { MailStore, User } from '../../connectors/store/store.ts';
import { hashPassword, verifyPassword } from '../../ops/password.ts';
import type { Authenticator } from './authenticator.ts';
import { LoginLimiter } from './login-limiter.ts';

export interface PasswordAuthenticatorOptions {
  readonly store: MailStore;
  readonly limiter?: LoginLimiter;
  readonly logger: Logger;
  /** How long a successful check is remembered (default 5 min; 0 turns the cache off). */
  readonly cacheTtlMs?: number;
  /** Remembered checks at most (default 10,000). */
  readonly cacheSize?: number;
  readonly now?: () => number;
}

export class PasswordAuthenticator implements Authenticator {
  private readonly limiter: LoginLimiter;
  private readonly cache = new Map<string, { digest: Buffer; expires: number }>();
  private readonly cacheKey = randomBytes(32);
  private readonly cacheTtlMs: number;
  private readonly cacheSize: number;
  private readonly now: () => number;
  private dummyHash: Promise<string> | null = null;

  constructor(private readonly options: PasswordAuthenticatorOptions) {
    this.limiter = options.limiter ?? new LoginLimiter();
    this.cacheTtlMs = options.cacheTtlMs ?? 5 * 60_000;
    this.cacheSize = options.cacheSize ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async login(address: string, password: string, remoteAddress: string): Promise<User | null> {
    const delay = this.limiter.delayFor(address, remoteAddress);
    if (delay > 0) await sleep(delay);
    const user = address.length > 0 && address.length <= 320 ? await this.options.store.user(address) : null;
    const ok = user ? await this.verify(user, password) : await this.dummyVerify(password);
    if (ok && user) {
      this.limiter.recordSuccess(address);
      return user;
    }
    this.limiter.recordFailure(address, remoteAddress);
    this.options.logger.info({ address, remoteAddress, delayMs: delay }, 'login failed');
    return null;
  }

  private async verify(user: User, password: string): Promise<boolean> {
    const digest = createHmac('sha256', this.cacheKey).update(`${user.id}\0${password}\0${user.passwordHash}`).digest();
    const cached = this.cache.get(user.id);
    if (cached && cached.expires > this.now() && timingSafeEqual(cached.digest, digest)) return true;
    if (password.length === 0 || !(await verifyPassword(password, user.passwordHash))) return false;
    if (this.cacheTtlMs > 0) {
      this.cache.delete(user.id);
      this.cache.set(user.id, { digest, expires: this.now() + this.cacheTtlMs });
      if (this.cache.size > this.cacheSize) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
    }
    return true;
  }

  /** The same scrypt work as a real check, against a hash no password matches. */
  private async dummyVerify(password: string): Promise<false> {
    this.dummyHash ??= hashPassword(`dummy-${Math.random()}-${this.now()}`);
    await verifyPassword(password.length > 0 ? password : 'x', await this.dummyHash);
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
