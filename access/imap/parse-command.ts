/**
 * Parses one command, as framed by `wire/reader.ts` (literals inline), into the AST of
 * `command.ts` (RFC 9051 §6 and §9 formal syntax; RFC 3501 §9 for IMAP4rev1). Anything else
 * throws an ImapParseError with the tag when there is one, for `<tag> BAD <message>`.
 * The grammar pieces live in `parse/`: tokenizer, sequence sets, dates, FETCH, SEARCH,
 * mailbox and message commands.
 */
import { ImapParseError } from './command.ts';
import type { ImapCommand } from './command.ts';
import { appendCommand, createCommand, getQuotaCommand, getQuotaRootCommand, listCommand, lsubCommand, selectCommand, setQuotaCommand, statusCommand } from './parse/mailbox-commands.ts';
import { copyCommand, expungeCommand, fetchCommand, searchCommand, sortCommand, storeCommand, threadCommand } from './parse/message-commands.ts';
import { Scanner } from './parse/scanner.ts';

const NO_ARGUMENTS = new Set(['CAPABILITY', 'NOOP', 'LOGOUT', 'STARTTLS', 'NAMESPACE', 'IDLE', 'CHECK', 'CLOSE', 'UNSELECT']);
type NoArgumentName = 'CAPABILITY' | 'NOOP' | 'LOGOUT' | 'STARTTLS' | 'NAMESPACE' | 'IDLE' | 'CHECK' | 'CLOSE' | 'UNSELECT';

/** RFC 2971 §4: at most 30 field-value pairs; we allow some slack. */
const MAX_ID_PAIRS = 64;

function loginCommand(s: Scanner, tag: string): ImapCommand {
  // RFC 9051 §6.2.3: LOGIN SP userid SP password
  s.sp();
  const user = s.astring('a user name');
  s.sp();
  const password = s.astring('a password');
  s.end();
  return { tag, name: 'LOGIN', user, password };
}

function authenticateCommand(s: Scanner, tag: string): ImapCommand {
  // RFC 9051 §6.2.2: AUTHENTICATE SP auth-type [SP initial-response] (SASL-IR, RFC 4959 §7)
  s.sp();
  const mechanism = s.keyword('a SASL mechanism');
  let initialResponse: string | null = null;
  if (s.accept(0x20)) {
    const start = s.pos;
    while (!s.atEnd()) {
      const c = s.peek();
      const base64 = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f || c === 0x3d;
      if (!base64) s.fail('Initial response is not base64');
      s.pos++;
    }
    initialResponse = s.buf.toString('latin1', start, s.pos);
    // initial-response = base64 / "=": padding only at the end.
    if (initialResponse === '' || (initialResponse !== '=' && !/^[A-Za-z0-9+/]*={0,2}$/.test(initialResponse))) {
      s.fail('Initial response is not base64');
    }
  }
  s.end();
  return { tag, name: 'AUTHENTICATE', mechanism, initialResponse };
}

function enableCommand(s: Scanner, tag: string): ImapCommand {
  // RFC 5161 §4: ENABLE 1*(SP capability)
  const capabilities: string[] = [];
  do {
    s.sp();
    capabilities.push(s.keyword('a capability'));
  } while (!s.atEnd());
  return { tag, name: 'ENABLE', capabilities };
}

function idCommand(s: Scanner, tag: string): ImapCommand {
  // RFC 2971 §4: ID SP id_params_list; id_params_list = "(" string SP nstring *(SP string SP nstring) ")" / nil
  s.sp();
  if (s.acceptWord('NIL')) {
    s.end();
    return { tag, name: 'ID', params: null };
  }
  const params: Record<string, string | null> = Object.create(null) as Record<string, string | null>;
  let count = 0;
  s.list(() => {
    const field = s.string();
    s.sp();
    if (++count > MAX_ID_PAIRS) s.fail('Too many ID parameters');
    params[field] = s.nstring();
  });
  s.end();
  return { tag, name: 'ID', params: { ...params } };
}

function compressCommand(s: Scanner, tag: string): ImapCommand {
  // RFC 4978 §3: COMPRESS SP algorithm
  s.sp();
  const mechanism = s.keyword('a compression algorithm');
  s.end();
  return { tag, name: 'COMPRESS', mechanism };
}

function mailboxCommand(s: Scanner, tag: string, name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE'): ImapCommand {
  s.sp();
  const mailbox = s.mailbox();
  s.end();
  return { tag, name, mailbox };
}

function renameCommand(s: Scanner, tag: string): ImapCommand {
  // RFC 9051 §6.3.6: RENAME SP mailbox SP mailbox
  s.sp();
  const from = s.mailbox();
  s.sp();
  const to = s.mailbox();
  s.end();
  return { tag, name: 'RENAME', from, to };
}

/** RFC 9051 §6.4.9: UID SP (COPY / MOVE / FETCH / SEARCH / STORE / EXPUNGE), plus SORT and THREAD (RFC 5256). */
function uidCommand(s: Scanner, tag: string): ImapCommand {
  s.sp();
  const name = s.keyword('a command name');
  switch (name) {
    case 'FETCH':
      return fetchCommand(s, tag, true);
    case 'STORE':
      return storeCommand(s, tag, true);
    case 'COPY':
    case 'MOVE':
      return copyCommand(s, tag, true, name);
    case 'SEARCH':
      return searchCommand(s, tag, true);
    case 'SORT':
      return sortCommand(s, tag, true);
    case 'THREAD':
      return threadCommand(s, tag, true);
    case 'EXPUNGE':
      return expungeCommand(s, tag, true);
    default:
      return s.fail(`Unknown UID command ${name}`);
  }
}

function parse(s: Scanner): ImapCommand {
  // RFC 9051 §9: command = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF
  const tag = s.readTag();
  s.tag = tag;
  if (s.peek() !== 0x20) {
    if (s.atEnd()) s.fail('Missing command');
    s.tag = null;
    s.fail('Invalid tag');
  }
  s.sp();
  const name = s.keyword('a command name');
  if (NO_ARGUMENTS.has(name)) {
    s.end();
    return { tag, name: name as NoArgumentName };
  }
  switch (name) {
    case 'LOGIN':
      return loginCommand(s, tag);
    case 'AUTHENTICATE':
      return authenticateCommand(s, tag);
    case 'ENABLE':
      return enableCommand(s, tag);
    case 'ID':
      return idCommand(s, tag);
    case 'COMPRESS':
      return compressCommand(s, tag);
    case 'SELECT':
    case 'EXAMINE':
      return selectCommand(s, tag, name);
    case 'CREATE':
      return createCommand(s, tag);
    case 'DELETE':
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE':
      return mailboxCommand(s, tag, name);
    case 'RENAME':
      return renameCommand(s, tag);
    case 'LIST':
      return listCommand(s, tag);
    case 'LSUB':
      return lsubCommand(s, tag);
    case 'STATUS':
      return statusCommand(s, tag);
    case 'APPEND':
      return appendCommand(s, tag);
    case 'GETQUOTA':
      return getQuotaCommand(s, tag);
    case 'GETQUOTAROOT':
      return getQuotaRootCommand(s, tag);
    case 'SETQUOTA':
      return setQuotaCommand(s, tag);
    case 'FETCH':
      return fetchCommand(s, tag, false);
    case 'STORE':
      return storeCommand(s, tag, false);
    case 'COPY':
    case 'MOVE':
      return copyCommand(s, tag, false, name);
    case 'EXPUNGE':
      return expungeCommand(s, tag, false);
    case 'SEARCH':
      return searchCommand(s, tag, false);
    case 'SORT':
      return sortCommand(s, tag, false);
    case 'THREAD':
      return threadCommand(s, tag, false);
    case 'UID':
      return uidCommand(s, tag);
    default:
      return s.fail(`Unknown command ${name}`);
  }
}

/** One framed command → its AST; throws ImapParseError (with the tag when known) on anything else. */
export function parseCommand(data: Buffer): ImapCommand {
  const s = new Scanner(data);
  try {
    return parse(s);
  } catch (error) {
    if (error instanceof ImapParseError) throw error;
    // A safety net: a bug here is still a BAD, never a crash; `cause` keeps it for the logs
    // (and lets the fuzz test see that it happened).
    const wrapped = new ImapParseError(`Invalid command: ${(error as Error).message}`, s.tag);
    wrapped.cause = error;
    throw wrapped;
  }
}
