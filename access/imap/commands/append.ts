/**
 * APPEND (RFC 9051 §6.3.12) with UIDPLUS's APPENDUID (RFC 4315 §3) and APPENDLIMIT (RFC 7889).
 * The message goes through the receiving flow (parse, split, store, index) and the command is
 * answered once it is stored.
 */
import type { ImapCommand } from '../command.ts';
import type { CommandResult } from '../context.ts';
import { ImapError } from '../imap-error.ts';
import type { SessionApi } from '../session-api.ts';

type AppendCommand = Extract<ImapCommand, { name: 'APPEND' }>;

export async function handleAppend(s: SessionApi, command: AppendCommand): Promise<CommandResult> {
  const name = s.decodeMailboxName(command.mailbox);
  const raw = command.message.literal;
  // RFC 7889 §4: a message over the limit is refused with TOOBIG.
  if (raw.length > s.settings.maxMessageSize) throw new ImapError('NO', 'TOOBIG', `Message larger than ${s.settings.maxMessageSize} bytes`);
  if (raw.length === 0) throw new ImapError('NO', undefined, 'Empty message');
  // RFC 9051 §6.3.12: TRYCREATE when the target does not exist.
  const mailbox = await s.service.store.mailbox(s.user.id, name);
  if (!mailbox) throw new ImapError('NO', 'TRYCREATE', 'No such mailbox');
  const flags = [...new Set(command.message.flags.filter((f) => f.toLowerCase() !== '\\recent'))];
  const appended = await s.service.append(s.user.id, {
    mailbox: mailbox.name,
    flags,
    internalDate: command.message.internalDate ?? Date.now(),
    raw,
  });
  return { status: 'OK', code: `APPENDUID ${appended.uidValidity} ${appended.uid}`, text: 'APPEND completed' };
}
