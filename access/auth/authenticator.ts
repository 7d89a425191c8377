/**
 * Password checks for IMAP, POP3 (and SMTP submission later), with protection against
 * guessing: failed attempts are counted per address and per client IP, and each answer after
 * a failure is delayed longer (see `login-limiter.ts`). Implemented in `password-authenticator.ts`.
 */
import type { User } from '../../connectors/store/store.ts';

export interface Authenticator {
  /**
   * The user when `address` and `password` match, else null — after the growing delay that
   * earlier failures from this address or this IP have earned. Never throws for a bad password.
   */
  login(address: string, password: string, remoteAddress: string): Promise<User | null>;
}
