/** ENABLE (RFC 5161, RFC 9051 §6.3.1), ID (RFC 2971), NAMESPACE (RFC 2342, RFC 9051 §6.3.10). */
import type { ImapCommand } from '../command.ts';
import type { CommandResult, EnabledExtensions } from '../context.ts';
import { ResponseBuilder } from '../wire/encode.ts';

type Command<N extends ImapCommand['name']> = Extract<ImapCommand, { name: N }>;

/** Turns on what the client asks for and we support; `* ENABLED` lists what this command enabled. */
export function handleEnable(enabled: EnabledExtensions, command: Command<'ENABLE'>, write: (line: string) => void): CommandResult {
  const turnedOn: string[] = [];
  for (const requested of command.capabilities) {
    const cap = requested.toUpperCase();
    if (cap === 'CONDSTORE' && !enabled.condstore) {
      enabled.condstore = true;
      turnedOn.push('CONDSTORE');
    } else if (cap === 'QRESYNC' && !enabled.qresync) {
      // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
      enabled.qresync = true;
      enabled.condstore = true;
      turnedOn.push('QRESYNC');
    } else if (cap === 'IMAP4REV2' && !enabled.imap4rev2) {
      enabled.imap4rev2 = true;
      enabled.utf8 = true;
      turnedOn.push('IMAP4rev2');
    } else if (cap === 'UTF8=ACCEPT' && !enabled.utf8) {
      enabled.utf8 = true; // RFC 6855 §3
      turnedOn.push('UTF8=ACCEPT');
    }
  }
  write(`* ENABLED${turnedOn.map((c) => ` ${c}`).join('')}\r\n`);
  return { status: 'OK', text: 'ENABLE completed' };
}

// RFC 2971 §3.1: the server's own identification (no version details beyond the name).
export function handleId(write: (line: Buffer) => void): CommandResult {
  write(new ResponseBuilder().text('* ID ').value(['name', 'Sluice', 'vendor', 'Sluice']).text('\r\n').toBuffer());
  return { status: 'OK', text: 'ID completed' };
}

// RFC 9051 §6.3.10: one personal namespace, no prefix, delimiter "/".
export function handleNamespace(write: (line: string) => void): CommandResult {
  write('* NAMESPACE (("" "/")) NIL NIL\r\n');
  return { status: 'OK', text: 'NAMESPACE completed' };
}
