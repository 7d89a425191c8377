/**
 * Failures of a command as protocol values (STYLE.md §9): handlers throw `ImapError` (or the
 * service's `CommandFailedError`), and `toResult` maps anything thrown to the tagged reply in
 * one place. Unknown errors are logged in full; the client sees a generic failure.
 */
import type { Logger } from 'pino';
import { CommandFailedError } from '../mailbox-service.ts';
import type { CommandResult } from './context.ts';

export class ImapError extends Error {
  constructor(
    readonly status: 'NO' | 'BAD',
    readonly code: string | undefined,
    text: string,
  ) {
    super(text);
    this.name = 'ImapError';
  }
}

export function toResult(err: unknown, logger: Logger, command: string): CommandResult {
  if (err instanceof ImapError) return { status: err.status, code: err.code, text: err.message };
  // RFC 5530 codes from the store stage (NONEXISTENT, ALREADYEXISTS, TRYCREATE, CANNOT …).
  if (err instanceof CommandFailedError) return { status: 'NO', code: err.code, text: err.message || `${command} failed` };
  // SelectedView.resolve: a sequence number beyond the mailbox (RFC 9051 §6.4.5 and §9).
  if (err instanceof RangeError) return { status: 'BAD', text: err.message || 'Invalid sequence set' };
  logger.error({ err, command }, 'IMAP command failed');
  return { status: 'NO', code: 'SERVERBUG', text: `${command} failed: internal error, try again later` };
}
