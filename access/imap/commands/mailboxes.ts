/**
 * CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE (RFC 9051 §6.3.4–§6.3.8, CREATE-SPECIAL-USE
 * RFC 6154 §3). Each is a command on `mailbox.commands`, answered once the store stage applied
 * it; the store's refusals come back as RFC 5530 codes (ALREADYEXISTS, NONEXISTENT, CANNOT …).
 */
import type { SpecialUse } from '../../../connectors/store/store.ts';
import type { ImapCommand } from '../command.ts';
import type { CommandResult } from '../context.ts';
import { ImapError } from '../imap-error.ts';
import { decodeMailboxName as decodeMutf7 } from '../mutf7.ts';
import { recentUids } from '../recent.ts';
import type { SessionApi } from '../session-api.ts';

type Command<N extends ImapCommand['name']> = Extract<ImapCommand, { name: N }>;
/** One AST member covers DELETE, SUBSCRIBE and UNSUBSCRIBE. */
type NameCommand = Extract<ImapCommand, { name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE' }>;

const SPECIAL_USES: readonly SpecialUse[] = ['\\Inbox', '\\Sent', '\\Drafts', '\\Junk', '\\Trash', '\\Archive'];

/**
 * RFC 3501 §5.1.3: an IMAP4rev1 client's new name must be valid modified UTF-7 (the session
 * looks other names up as given, so they simply do not exist).
 */
function newName(s: SessionApi, wire: string): string {
  if (!s.enabled.utf8) {
    try {
      decodeMutf7(wire);
    } catch (err) {
      throw new ImapError('NO', 'CANNOT', `Mailbox name is not valid modified UTF-7: ${(err as Error).message}`);
    }
  }
  return s.decodeMailboxName(wire);
}

// RFC 9051 §6.3.4
export async function handleCreate(s: SessionApi, command: Command<'CREATE'>): Promise<CommandResult> {
  // A trailing delimiter only says the client means to create children (RFC 9051 §6.3.4).
  const name = newName(s, command.mailbox).replace(/\/+$/, '');
  if (name === '') throw new ImapError('BAD', undefined, 'Empty mailbox name');
  if (name === 'INBOX') throw new ImapError('NO', 'ALREADYEXISTS', 'INBOX always exists');
  if (command.specialUse.length > 1) throw new ImapError('NO', 'USEATTR', 'At most one special-use attribute per mailbox');
  let specialUse: SpecialUse | null = null;
  if (command.specialUse.length === 1) {
    const wanted = command.specialUse[0].toLowerCase();
    specialUse = SPECIAL_USES.find((use) => use.toLowerCase() === wanted && use !== '\\Inbox') ?? null;
    // RFC 6154 §3: an attribute we do not support is refused with USEATTR.
    if (!specialUse) throw new ImapError('NO', 'USEATTR', `Unsupported special-use attribute ${command.specialUse[0]}`);
  }
  await s.service.change(s.user.id, { createMailbox: { name, specialUse } });
  // RFC 3501 §2.3.2: from now on, what arrives in it is \Recent for the next session to select it.
  const created = await s.service.store.mailbox(s.user.id, name);
  if (created) recentUids(s.service.store).firstRecent(created);
  return { status: 'OK', text: 'CREATE completed' };
}

// RFC 9051 §6.3.5
export async function handleDelete(s: SessionApi, command: NameCommand): Promise<CommandResult> {
  const name = s.decodeMailboxName(command.mailbox);
  if (name === 'INBOX') throw new ImapError('NO', 'CANNOT', 'INBOX cannot be deleted');
  if (s.selected?.mailbox.name === name) {
    // Deleting the selected mailbox: leave it first (as Dovecot does), the client gets [CLOSED].
    s.select(null);
    s.write('* OK [CLOSED] Mailbox deleted\r\n');
  }
  await s.service.change(s.user.id, { deleteMailbox: { name } });
  return { status: 'OK', text: 'DELETE completed' };
}

// RFC 9051 §6.3.6
export async function handleRename(s: SessionApi, command: Command<'RENAME'>): Promise<CommandResult> {
  const from = s.decodeMailboxName(command.from);
  const to = newName(s, command.to).replace(/\/+$/, '');
  if (to === '') throw new ImapError('BAD', undefined, 'Empty mailbox name');
  if (to === 'INBOX') throw new ImapError('NO', 'ALREADYEXISTS', 'INBOX always exists');
  if (from === to) throw new ImapError('NO', 'ALREADYEXISTS', 'The mailbox already has that name');
  await s.service.change(s.user.id, { renameMailbox: { from, to } });
  return { status: 'OK', text: 'RENAME completed' };
}

// RFC 9051 §6.3.7, §6.3.8
export async function handleSubscribe(s: SessionApi, command: NameCommand): Promise<CommandResult> {
  const name = s.decodeMailboxName(command.mailbox);
  const subscribed = command.name === 'SUBSCRIBE';
  await s.service.change(s.user.id, { subscribe: { name, subscribed } });
  return { status: 'OK', text: `${command.name} completed` };
}
