/**
 * QUOTA (RFC 9208): one quota root, "", over all of a user's mailboxes, with STORAGE in KiB
 * (§5.1) and, when configured, MESSAGE (§5.2). Without a configured limit no mailbox has a
 * quota root (GETQUOTAROOT lists none, RFC 9208 §4.3). SETQUOTA is refused: limits are set by
 * the operator.
 */
import type { ImapCommand } from '../command.ts';
import type { CommandResult } from '../context.ts';
import { ImapError } from '../imap-error.ts';
import type { SessionApi } from '../session-api.ts';
import { ResponseBuilder } from '../wire/encode.ts';

type Command<N extends ImapCommand['name']> = Extract<ImapCommand, { name: N }>;

async function quotaLine(s: SessionApi): Promise<string> {
  const usage = await s.service.store.usage(s.user.id);
  const resources = [`STORAGE ${Math.ceil(usage.bytes / 1024)} ${Math.floor((s.settings.quotaBytes ?? 0) / 1024)}`];
  if (s.settings.quotaMessages !== null) resources.push(`MESSAGE ${usage.messages} ${s.settings.quotaMessages}`);
  return `* QUOTA "" (${resources.join(' ')})\r\n`;
}

// RFC 9208 §4.2
export async function handleGetQuota(s: SessionApi, command: Command<'GETQUOTA'>): Promise<CommandResult> {
  if (command.root !== '' || s.settings.quotaBytes === null) throw new ImapError('NO', 'NONEXISTENT', 'No such quota root');
  s.write(await quotaLine(s));
  return { status: 'OK', text: 'GETQUOTA completed' };
}

// RFC 9208 §4.3
export async function handleGetQuotaRoot(s: SessionApi, command: Command<'GETQUOTAROOT'>): Promise<CommandResult> {
  const name = s.decodeMailboxName(command.mailbox);
  const mailbox = await s.service.store.mailbox(s.user.id, name);
  if (!mailbox) throw new ImapError('NO', 'NONEXISTENT', 'No such mailbox');
  const head = new ResponseBuilder({ utf8: s.enabled.utf8 }).text('* QUOTAROOT ').value(s.encodeMailboxName(mailbox.name));
  if (s.settings.quotaBytes === null) {
    s.write(head.text('\r\n').toBuffer());
  } else {
    s.write(head.text(' ""\r\n').toBuffer(), await quotaLine(s));
  }
  return { status: 'OK', text: 'GETQUOTAROOT completed' };
}

// RFC 9208 §4.1: we may refuse to change limits.
export async function handleSetQuota(): Promise<CommandResult> {
  return { status: 'NO', code: 'NOPERM', text: 'Quotas are set by the administrator' };
}
