/**
 * STATUS (RFC 9051 §6.3.11) with SIZE (RFC 8438) and HIGHESTMODSEQ (RFC 7162 §3.1.2); RECENT
 * (RFC 3501 §6.3.10): the messages no session has claimed as \Recent yet (`recent.ts`). Also the
 * data of LIST-STATUS (RFC 5819).
 */
import type { Mailbox, MessageSummary } from '../../../connectors/store/store.ts';
import type { ImapCommand } from '../command.ts';
import type { CommandResult } from '../context.ts';
import { ImapError } from '../imap-error.ts';
import type { SessionApi } from '../session-api.ts';
import { recentUids } from '../recent.ts';
import { ResponseBuilder } from '../wire/encode.ts';

type StatusCommand = Extract<ImapCommand, { name: 'STATUS' }>;

const ITEMS = new Set(['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'DELETED', 'SIZE', 'RECENT', 'HIGHESTMODSEQ']);

/** `* STATUS <name> (<item> <n> …)` for one mailbox. */
export async function statusResponse(s: SessionApi, mailbox: Mailbox, items: readonly string[]): Promise<Buffer> {
  const values: string[] = [];
  let summaries: readonly MessageSummary[] | null = null;
  const messages = async () => (summaries ??= await s.service.store.summaries(mailbox.id));
  for (const item of items) {
    let n: number;
    switch (item) {
      case 'MESSAGES': n = mailbox.messages; break;
      case 'UIDNEXT': n = mailbox.uidNext; break;
      case 'UIDVALIDITY': n = mailbox.uidValidity; break;
      case 'UNSEEN': n = mailbox.unseen; break;
      case 'SIZE': n = mailbox.size; break;
      case 'RECENT': {
        const recent = recentUids(s.service.store);
        n = recent.firstRecent(mailbox) >= mailbox.uidNext ? 0 : recent.peek(mailbox, (await messages()).map((m) => m.uid)).length;
        break;
      }
      case 'HIGHESTMODSEQ': n = mailbox.highestModseq; break;
      case 'DELETED':
        n = (await messages()).filter((m) => m.flags.includes('\\Deleted')).length;
        break;
      default:
        throw new ImapError('BAD', undefined, `Unknown STATUS item ${item}`);
    }
    values.push(`${item} ${n}`);
  }
  return new ResponseBuilder({ utf8: s.enabled.utf8 })
    .text('* STATUS ')
    .value(s.encodeMailboxName(mailbox.name))
    .text(` (${values.join(' ')})\r\n`)
    .toBuffer();
}

export function checkStatusItems(items: readonly string[]): void {
  for (const item of items) if (!ITEMS.has(item)) throw new ImapError('BAD', undefined, `Unknown STATUS item ${item}`);
}

// RFC 9051 §6.3.11
export async function handleStatus(s: SessionApi, command: StatusCommand): Promise<CommandResult> {
  checkStatusItems(command.items);
  const name = s.decodeMailboxName(command.mailbox);
  const mailbox = await s.service.store.mailbox(s.user.id, name);
  if (!mailbox) throw new ImapError('NO', 'NONEXISTENT', 'No such mailbox');
  // RFC 7162 §3.1: STATUS (HIGHESTMODSEQ) is a CONDSTORE enabling command.
  if (command.items.includes('HIGHESTMODSEQ')) s.enabled.condstore = true;
  s.write(await statusResponse(s, mailbox, command.items));
  return { status: 'OK', text: 'STATUS completed' };
}
