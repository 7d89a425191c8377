/**
 * What a POP3 command handler sees of its session (the go-imap habit: protocol code talks to the
 * connection and storage only through this). Handlers write their own `+OK` replies and throw
 * `Pop3Error` for `-ERR` ones.
 */
import type { Logger } from 'pino';
import type { Maildrop, MaildropEntry } from './maildrop.ts';

/** RFC 1939 §3: AUTHORIZATION, then TRANSACTION; UPDATE is what QUIT does in TRANSACTION. */
export type Pop3State = 'authorization' | 'transaction';

export interface Pop3Context {
  readonly state: Pop3State;
  /** TLS is active (implicit TLS, or after STLS). */
  readonly secure: boolean;
  /** USER, PASS and AUTH are allowed now (TLS active, or `allowPlaintextAuth`). */
  readonly plaintextAuthAllowed: boolean;
  /** The snapshot of the INBOX (TRANSACTION state only). */
  readonly maildrop: Maildrop | null;
  readonly logger: Logger;
  /** The name given by USER, awaiting PASS (RFC 1939 §7). */
  pendingUser: string | null;
  /** One reply line (CRLF appended). */
  send(line: string): Promise<void>;
  /** A multi-line reply (RFC 1939 §3): the first line, data lines (dot-stuffed here), the terminator. */
  sendLines(first: string, lines: readonly string[]): Promise<void>;
  /** A first line, then bytes already in multi-line form (see `pop3Body`). */
  sendBody(first: string, body: Buffer): Promise<void>;
  /** A SASL challenge `+ <base64>` (RFC 5034 §4), then the client's next line; null when the connection closed. */
  challenge(base64: string): Promise<string | null>;
  /** Checks the credentials, locks the maildrop and enters TRANSACTION; throws `Pop3Error`. Sends nothing. */
  login(address: string, password: string): Promise<Maildrop>;
  /** RFC 2595 §4: after `+OK`, negotiates TLS; input pipelined after STLS is discarded. */
  startTls(): Promise<void>;
  /** The CAPA list (RFC 2449 §5) for the session's current state. */
  capabilities(): string[];
  /** The stored bytes of a message of the maildrop. */
  messageBytes(entry: MaildropEntry): Promise<Buffer>;
  /** UPDATE state (RFC 1939 §6): applies the maildrop's changes; sends nothing. */
  commit(): Promise<{ expunged: number }>;
  /** Ends the connection after the replies written so far. */
  close(): void;
}

export interface Pop3Command {
  readonly states: readonly Pop3State[];
  /** `args` is the rest of the line after the keyword and one space ('' when none). */
  handle(ctx: Pop3Context, args: string): Promise<void>;
}
