/**
 * When a temporarily failed message is tried again (DESIGN.md §2: 1 m, 5 m, 30 m, 2 h, 8 h, then
 * every 8 h, until 5 days after submission), and on which retry topic it waits.
 */
import type { OutboundPolicy } from '../../connectors/outbound.ts';

export interface NextAttempt {
  /** Index into the retry topics. */
  readonly topic: number;
  readonly notBefore: number;
}

/**
 * After attempt `attempt` (1-based) failed at `now`: retry topic min(attempt, topics) and the
 * delay schedule[min(attempt, schedule) - 1], brought forward — never pushed back — to the
 * delay-warning time (when the sender has not been told yet) and to the expiry.
 */
export function nextAttempt(policy: OutboundPolicy, topics: number, attempt: number, now: number, submittedAt: number, delayNotified: boolean): NextAttempt {
  const schedule = policy.retrySchedule;
  const delay = schedule[Math.min(attempt, schedule.length) - 1];
  let notBefore = now + delay;
  const warnAt = submittedAt + policy.delayWarningMs;
  if (!delayNotified && warnAt > now) notBefore = Math.min(notBefore, warnAt);
  notBefore = Math.min(notBefore, expiresAt(policy, submittedAt));
  return { topic: Math.min(attempt, topics) - 1, notBefore };
}

export function expiresAt(policy: OutboundPolicy, submittedAt: number): number {
  return submittedAt + policy.maxAgeMs;
}
