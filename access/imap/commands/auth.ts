/**
 * LOGIN (RFC 9051 §6.2.3) and AUTHENTICATE PLAIN (RFC 9051 §6.2.2, RFC 4616) with SASL-IR
 * (RFC 4959). Both refuse before TLS unless plaintext authentication is allowed (LOGINDISABLED,
 * RFC 9051 §6.2.3 and §11.1). The authenticator applies the growing delay after failures.
 */
import type { User } from '../../../connectors/store/store.ts';
import type { Authenticator } from '../../auth/authenticator.ts';
import type { ImapCommand } from '../command.ts';
import type { CommandResult } from '../context.ts';

type Command<N extends ImapCommand['name']> = Extract<ImapCommand, { name: N }>;

export interface AuthSession {
  readonly authenticator: Authenticator;
  readonly remoteAddress: string;
  /** TLS is active, or the configuration allows passwords in the clear. */
  readonly plaintextAllowed: boolean;
  write(line: string): void;
  flush(): void;
  /** The client's next line (an AUTHENTICATE response), or null when the connection is gone. */
  readLine(): Promise<Buffer | null>;
}

export interface AuthOutcome {
  readonly result: CommandResult;
  readonly user: User | null;
  /** A failed password check (counted towards the per-connection limit). */
  readonly failed: boolean;
}

const PRIVACY: AuthOutcome = {
  result: { status: 'NO', code: 'PRIVACYREQUIRED', text: 'Use STARTTLS first' },
  user: null,
  failed: false,
};

async function check(a: AuthSession, address: string, password: string): Promise<AuthOutcome> {
  const user = await a.authenticator.login(address, password, a.remoteAddress);
  if (!user) {
    // RFC 5530 §3: the same answer for an unknown user and a wrong password.
    return { result: { status: 'NO', code: 'AUTHENTICATIONFAILED', text: 'Authentication failed' }, user: null, failed: true };
  }
  return { result: { status: 'OK', text: 'Logged in' }, user, failed: false };
}

// RFC 9051 §6.2.3
export async function handleLogin(a: AuthSession, command: Command<'LOGIN'>): Promise<AuthOutcome> {
  if (!a.plaintextAllowed) return PRIVACY;
  return check(a, command.user, command.password);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** RFC 4616 §2: `[authzid] NUL authcid NUL passwd`, else null. */
export function decodePlain(response: string): { authzid: string; authcid: string; password: string } | null {
  if (!BASE64.test(response)) return null;
  const parts = Buffer.from(response, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3 || parts[1] === '' || parts[2] === '') return null;
  return { authzid: parts[0], authcid: parts[1], password: parts[2] };
}

// RFC 9051 §6.2.2
export async function handleAuthenticate(a: AuthSession, command: Command<'AUTHENTICATE'>): Promise<AuthOutcome> {
  if (command.mechanism.toUpperCase() !== 'PLAIN') {
    return { result: { status: 'NO', code: 'CANNOT', text: 'Unsupported authentication mechanism' }, user: null, failed: false };
  }
  if (!a.plaintextAllowed) return PRIVACY;
  let response = command.initialResponse;
  if (response === null) {
    // RFC 9051 §7.5: an empty challenge; the client answers on one line.
    a.write('+ \r\n');
    a.flush();
    const line = await a.readLine();
    if (line === null) return { result: { status: 'BAD', text: 'Connection closed' }, user: null, failed: false };
    response = line.toString('latin1').trim();
    // RFC 9051 §6.2.2: "*" cancels the exchange.
    if (response === '*') return { result: { status: 'BAD', text: 'AUTHENTICATE cancelled' }, user: null, failed: false };
  }
  // RFC 4959 §3: "=" is an empty initial response, which PLAIN cannot use.
  const plain = response === '=' ? null : decodePlain(response);
  if (!plain) return { result: { status: 'BAD', text: 'Malformed PLAIN response' }, user: null, failed: false };
  const outcome = await check(a, plain.authcid, plain.password);
  // We do not let one user act as another: authzid is empty or the same user.
  if (outcome.user && plain.authzid !== '' && plain.authzid.toLowerCase() !== outcome.user.id) {
    return { result: { status: 'NO', code: 'AUTHORIZATIONFAILED', text: 'Not authorized to act as that user' }, user: null, failed: true };
  }
  return outcome;
}
