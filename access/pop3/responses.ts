/**
 * POP3 replies as values (RFC 1939 §3): `+OK …` or `-ERR …`, with the extended response codes
 * of RFC 2449 §8 and RFC 3206 in brackets after `-ERR`. Handlers throw `Pop3Error`; the session
 * maps it to the wire in one place and logs anything else in full behind a generic `[SYS/TEMP]`.
 */

/** RFC 2449 §8.1 (IN-USE, LOGIN-DELAY), RFC 3206 §4-5 (SYS/TEMP, SYS/PERM, AUTH). */
export type RespCode = 'IN-USE' | 'LOGIN-DELAY' | 'SYS/TEMP' | 'SYS/PERM' | 'AUTH';

export class Pop3Error extends Error {
  constructor(
    readonly code: RespCode | null,
    readonly text: string,
  ) {
    super(text);
    this.name = 'Pop3Error';
  }
}

/** `-ERR [CODE] text` without the CRLF. */
export function errLine(code: RespCode | null, text: string): string {
  return code ? `-ERR [${code}] ${text}` : `-ERR ${text}`;
}

/** `+OK text` without the CRLF. */
export function okLine(text: string): string {
  return text ? `+OK ${text}` : '+OK';
}

/** The catalogue of the errors the commands answer. */
export const pop3Errors = {
  unknownCommand: () => new Pop3Error(null, 'Unknown command'),
  wrongState: () => new Pop3Error(null, 'Command not valid in this state'),
  syntax: (what: string) => new Pop3Error(null, `Syntax error: ${what}`),
  lineTooLong: () => new Pop3Error(null, 'Line too long'),
  noSuchMessage: () => new Pop3Error(null, 'No such message'),
  alreadyDeleted: () => new Pop3Error(null, 'Message already deleted'),
  // RFC 2595 §4 leaves the reply open; Dovecot's wording, with RFC 3206's AUTH code.
  plaintextRefused: () => new Pop3Error('AUTH', 'Plaintext authentication disallowed on non-secure connections, use STLS first'),
  authFailed: () => new Pop3Error('AUTH', 'Authentication failed'),
  authCancelled: () => new Pop3Error(null, 'Authentication cancelled'),
  userFirst: () => new Pop3Error(null, 'Send USER first'),
  unknownMechanism: () => new Pop3Error(null, 'Unsupported authentication mechanism'),
  // RFC 1939 §8, RFC 2449 §8.1.1.
  inUse: () => new Pop3Error('IN-USE', 'Maildrop is locked by another POP3 session'),
  alreadyTls: () => new Pop3Error(null, 'TLS is already active'),
  temporary: () => new Pop3Error('SYS/TEMP', 'Temporary server failure, try again later'),
  noMaildrop: () => new Pop3Error('SYS/PERM', 'No INBOX for this user'),
} as const;
