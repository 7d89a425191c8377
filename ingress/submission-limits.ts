/**
 * Per-user submission limits (issue 4 step 1): how many messages, and how many recipients in
 * all, one authenticated user may submit per window (default one hour). Past either, the
 * submission listener answers `451 4.7.1` — a temporary refusal (RFC 5321 §4.2.5: the client
 * keeps the message and tries later; RFC 3463 X.7.1: not authorized, here for now).
 *
 * Counted in this process's memory (rate-limiter-flexible's fixed windows, which start at a
 * user's first submission): a restart forgets the counts, and each node of a distributed
 * deployment counts its own. A limit of 0 turns that limit off.
 *
 * The listener asks three times: at MAIL FROM (`checkMessage`: any message left?), at each
 * RCPT TO (`checkRecipient`: room for one more beside those already accepted in this
 * transaction?), and at the end of DATA (`charge`: takes one message and its recipients at once,
 * or refuses, so concurrent connections of one user cannot overrun the limit). A message that
 * is charged and then not stored is given back (`refund`).
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { SmtpError } from './smtp-errors.ts';

export interface SubmissionLimitsOptions {
  /** Messages per user per window; 0 = no limit. */
  readonly messages: number;
  /** Recipients (local and remote, summed over messages) per user per window; 0 = no limit. */
  readonly recipients: number;
  /** The window in milliseconds (at least one second). */
  readonly windowMs: number;
}

export const DEFAULT_SUBMISSION_LIMITS: SubmissionLimitsOptions = { messages: 500, recipients: 2000, windowMs: 3_600_000 };

/** RFC 5321 §4.2.5 / RFC 3463 X.7.1: over the user's sending rate, try again later. */
export function rateLimited(what: 'messages' | 'recipients', limit: number, windowMs: number, retryInMs: number): SmtpError {
  const minutes = Math.max(1, Math.ceil(retryInMs / 60_000));
  return new SmtpError(451, '4.7.1', `Sending rate limit reached: at most ${limit} ${what} per ${describeWindow(windowMs)}; try again in ${minutes} minute${minutes === 1 ? '' : 's'}`);
}

function describeWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} hours`;
  if (ms % 60_000 === 0) return ms === 60_000 ? 'minute' : `${ms / 60_000} minutes`;
  return `${ms / 1000} seconds`;
}

interface Counter {
  readonly limit: number;
  readonly limiter: RateLimiterMemory;
}

export class SubmissionLimits {
  private readonly messages: Counter | null;
  private readonly recipients: Counter | null;

  constructor(private readonly options: SubmissionLimitsOptions = DEFAULT_SUBMISSION_LIMITS) {
    if (options.windowMs < 1000) throw new RangeError('the submission rate-limit window must be at least 1 s');
    const counter = (limit: number, prefix: string): Counter | null =>
      limit > 0 ? { limit, limiter: new RateLimiterMemory({ keyPrefix: prefix, points: limit, duration: options.windowMs / 1000 }) } : null;
    this.messages = counter(options.messages, 'msg');
    this.recipients = counter(options.recipients, 'rcpt');
  }

  /** MAIL FROM: throws 451 4.7.1 when the user has used up their messages in this window. */
  async checkMessage(user: string): Promise<void> {
    const c = this.messages;
    if (!c) return;
    const used = await c.limiter.get(user);
    if (used && used.consumedPoints >= c.limit) throw rateLimited('messages', c.limit, this.options.windowMs, used.msBeforeNext);
  }

  /** RCPT TO: throws 451 4.7.1 when one more recipient beside `pending` ones would exceed the limit. */
  async checkRecipient(user: string, pending: number): Promise<void> {
    const c = this.recipients;
    if (!c) return;
    const used = await c.limiter.get(user);
    if ((used?.consumedPoints ?? 0) + pending + 1 > c.limit) throw rateLimited('recipients', c.limit, this.options.windowMs, used?.msBeforeNext ?? this.options.windowMs);
  }

  /** End of DATA: takes one message and `recipients`, or throws 451 4.7.1 and takes nothing. */
  async charge(user: string, recipients: number): Promise<void> {
    const taken: [Counter, number][] = [];
    for (const [c, points, what] of [[this.messages, 1, 'messages'], [this.recipients, recipients, 'recipients']] as const) {
      if (!c || points === 0) continue;
      try {
        await c.limiter.consume(user, points);
        taken.push([c, points]);
      } catch (err) {
        // A refusal consumed the points all the same: give them back, and those taken before.
        if (!(err instanceof RateLimiterRes)) throw err;
        await c.limiter.reward(user, points);
        for (const [t, p] of taken) await t.limiter.reward(user, p);
        throw rateLimited(what, c.limit, this.options.windowMs, err.msBeforeNext);
      }
    }
  }

  /** Gives back a charge whose message was not stored after all (the client will retry it). */
  async refund(user: string, recipients: number): Promise<void> {
    for (const [c, points] of [[this.messages, 1], [this.recipients, recipients]] as const) {
      // Only within the window that took them: a new window owes nothing back.
      const used = c && points > 0 ? await c.limiter.get(user) : null;
      if (c && used && used.consumedPoints >= points) await c.limiter.reward(user, points);
    }
  }
}
