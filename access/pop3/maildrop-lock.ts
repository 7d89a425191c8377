/**
 * RFC 1939 §8: "the server acquires an exclusive-access lock on the maildrop" once a session is
 * authenticated, so that two POP3 sessions never delete from the same snapshot. In-process: a map
 * keyed by user id, by default one for the whole process (`processMaildropLocks`), so that every
 * listener (pop3, pop3s) and every server object in it honours the same lock.
 */
export class MaildropLocks {
  private readonly held = new Map<string, symbol>();

  /** A release function when the lock was free, else null (RFC 2449 §8.1.1 `[IN-USE]`). */
  acquire(userId: string): (() => void) | null {
    if (this.held.has(userId)) return null;
    const token = Symbol(userId);
    this.held.set(userId, token);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (this.held.get(userId) === token) this.held.delete(userId);
    };
  }

  isLocked(userId: string): boolean {
    return this.held.has(userId);
  }
}

/** The process-wide lock table the POP3 servers use unless given their own. */
export const processMaildropLocks = new MaildropLocks();
