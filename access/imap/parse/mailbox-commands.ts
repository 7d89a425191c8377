/**
 * Arguments of the commands on mailboxes (RFC 9051 §6.3): SELECT/EXAMINE with CONDSTORE and
 * QRESYNC (RFC 7162 §3.1.8, §3.2.5), CREATE with USE (RFC 6154 §3), LIST with LIST-EXTENDED
 * (RFC 5258 §3), LIST-STATUS (RFC 5819) and SPECIAL-USE (RFC 6154 §5), LSUB (RFC 3501 §6.3.9),
 * STATUS (RFC 9051 §6.3.11, RFC 7162 §3.1.10, RFC 8438, RFC 7889), APPEND (RFC 9051 §6.3.12,
 * RFC 3516 §4.4) and QUOTA (RFC 9208 §4). Each parser starts after the command name.
 */
import type { ImapCommand, ListCommand, QresyncParams } from '../command.ts';
import { dateTime } from './dates.ts';
import type { Scanner } from './scanner.ts';
import { sequenceSet } from './sequence-set.ts';

export const STATUS_ITEMS = new Set(['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'DELETED', 'SIZE', 'RECENT', 'HIGHESTMODSEQ', 'APPENDLIMIT']);

/** QRESYNC SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")" (RFC 7162 §7). */
function qresync(s: Scanner): QresyncParams {
  s.expect(0x28, '"(" after QRESYNC');
  const uidValidity = s.nzNumber('a UIDVALIDITY');
  s.sp();
  const modseq = s.number64('a mod-sequence');
  let knownUids: QresyncParams['knownUids'] = null;
  let seqMatch: QresyncParams['seqMatch'] = null;
  if (s.accept(0x20)) {
    if (s.peek() !== 0x28) {
      knownUids = sequenceSet(s);
      if (knownUids.kind === 'saved') s.fail('"$" is not a known-uids set');
    }
    if (s.peek() === 0x28 || (knownUids !== null && s.accept(0x20))) {
      s.expect(0x28, '"(" before seq-match-data');
      const seqs = sequenceSet(s);
      s.sp();
      const uids = sequenceSet(s);
      s.expect(0x29, '")" after seq-match-data');
      seqMatch = { seqs, uids };
    }
  }
  s.expect(0x29, '")" after QRESYNC parameters');
  return { uidValidity, modseq, knownUids, seqMatch };
}

export function selectCommand(s: Scanner, tag: string, name: 'SELECT' | 'EXAMINE'): ImapCommand {
  s.sp();
  const mailbox = s.mailbox();
  let condstore = false;
  let qresyncParams: QresyncParams | null = null;
  if (s.accept(0x20)) {
    // select-params = "(" select-param *(SP select-param) ")" (RFC 4466 §2.1)
    s.list(() => {
      const param = s.keyword('a SELECT parameter');
      if (param === 'CONDSTORE') {
        condstore = true;
      } else if (param === 'QRESYNC') {
        s.sp();
        qresyncParams = qresync(s);
      } else {
        s.fail(`Unknown ${name} parameter ${param}`);
      }
    });
  }
  s.end();
  return { tag, name, mailbox, condstore, qresync: qresyncParams };
}

export function createCommand(s: Scanner, tag: string): ImapCommand {
  s.sp();
  const mailbox = s.mailbox();
  const specialUse: string[] = [];
  if (s.accept(0x20)) {
    // create-param = "USE" SP "(" [use-attr *(SP use-attr)] ")" (RFC 6154 §6)
    s.list(() => {
      const param = s.keyword('a CREATE parameter');
      if (param !== 'USE') s.fail(`Unknown CREATE parameter ${param}`);
      s.sp();
      specialUse.push(...s.list(() => s.flag()));
    });
  }
  s.end();
  return { tag, name: 'CREATE', mailbox, specialUse };
}

const SELECTION_OPTIONS = new Set(['SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE']);
const RETURN_OPTIONS = new Set(['SUBSCRIBED', 'CHILDREN', 'SPECIAL-USE']);

function statusItems(s: Scanner): string[] {
  return s.list(() => {
    const item = s.keyword('a status item');
    if (!STATUS_ITEMS.has(item)) s.fail(`Unknown status item ${item}`);
    return item;
  }, false);
}

/** LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts] (RFC 5258 §6). */
export function listCommand(s: Scanner, tag: string): ListCommand & { readonly tag: string } {
  s.sp();
  let extended = false;
  const selection: string[] = [];
  if (s.peek() === 0x28) {
    extended = true;
    for (const option of s.list(() => s.keyword('a selection option'))) {
      // RFC 5258 §3.1: an unknown selection option is a BAD.
      if (!SELECTION_OPTIONS.has(option)) s.fail(`Unknown LIST selection option ${option}`);
      if (!selection.includes(option)) selection.push(option);
    }
    // RFC 5258 §3.1: RECURSIVEMATCH alone (without an option it modifies) is a BAD.
    if (selection.includes('RECURSIVEMATCH') && !selection.some((o) => o !== 'RECURSIVEMATCH' && o !== 'REMOTE')) {
      s.fail('RECURSIVEMATCH needs another selection option');
    }
    s.sp();
  }
  const reference = s.astring('a reference name');
  s.sp();
  let patterns: string[];
  if (s.peek() === 0x28) {
    extended = true;
    patterns = s.list(() => s.listMailbox(), false);
  } else {
    patterns = [s.listMailbox()];
  }
  const options: string[] = [];
  let status: string[] | null = null;
  if (s.accept(0x20)) {
    if (!s.acceptWord('RETURN')) s.fail('Expected RETURN');
    extended = true;
    s.sp();
    s.list(() => {
      const option = s.keyword('a return option');
      if (option === 'STATUS') {
        s.sp();
        status = statusItems(s);
      } else if (RETURN_OPTIONS.has(option)) {
        if (!options.includes(option)) options.push(option);
      } else {
        s.fail(`Unknown LIST return option ${option}`);
      }
    });
  }
  s.end();
  return { tag, name: 'LIST', reference, patterns, selection, returns: { options, status }, extended };
}

export function lsubCommand(s: Scanner, tag: string): ImapCommand {
  s.sp();
  const reference = s.astring('a reference name');
  s.sp();
  const pattern = s.listMailbox();
  s.end();
  return { tag, name: 'LSUB', reference, pattern };
}

export function statusCommand(s: Scanner, tag: string): ImapCommand {
  s.sp();
  const mailbox = s.mailbox();
  s.sp();
  const items = statusItems(s);
  s.end();
  return { tag, name: 'STATUS', mailbox, items: [...new Set(items)] };
}

/** APPEND SP mailbox [SP flag-list] [SP date-time] SP (literal / literal8) (RFC 9051 §6.3.12, RFC 3516 §4.4). */
export function appendCommand(s: Scanner, tag: string): ImapCommand {
  s.sp();
  const mailbox = s.mailbox();
  s.sp();
  let flags: string[] = [];
  if (s.peek() === 0x28) {
    flags = s.flagList();
    s.sp();
  }
  let internalDate: number | null = null;
  if (s.peek() === 0x22) {
    internalDate = dateTime(s);
    s.sp();
  }
  const literal = s.literal(true);
  s.end();
  return { tag, name: 'APPEND', mailbox, message: { flags, internalDate, literal } };
}

export function getQuotaCommand(s: Scanner, tag: string): ImapCommand {
  s.sp();
  const root = s.astring('a quota root');
  s.end();
  return { tag, name: 'GETQUOTA', root };
}

export function getQuotaRootCommand(s: Scanner, tag: string): ImapCommand {
  s.sp();
  const mailbox = s.mailbox();
  s.end();
  return { tag, name: 'GETQUOTAROOT', mailbox };
}

/** SETQUOTA SP quota-root SP "(" [setquota-resource *(SP setquota-resource)] ")" (RFC 9208 §4.3). */
export function setQuotaCommand(s: Scanner, tag: string): ImapCommand {
  s.sp();
  const root = s.astring('a quota root');
  s.sp();
  const limits: Record<string, number> = {};
  s.list(() => {
    const resource = s.keyword('a resource name');
    s.sp();
    limits[resource] = s.number64('a resource limit');
  });
  s.end();
  return { tag, name: 'SETQUOTA', root, limits };
}
