/**
 * The SMTP client of the sending flow (DESIGN.md §3 `connectors/smtp-client/`): one mail
 * transaction with one server, reporting what became of each recipient. Implemented with
 * nodemailer's SMTPConnection in `nodemailer.ts`.
 */

/** A server to try: an address (IPv4/IPv6) and the name it was found under (for TLS SNI and logs). */
export interface SmtpTarget {
  readonly host: string;
  readonly address: string;
  readonly port: number;
}

export interface SmtpTransaction {
  /** Envelope MAIL FROM; empty for the null reverse-path. */
  readonly from: string;
  readonly to: readonly string[];
  readonly message: Buffer;
}

/** What the server said about one recipient (RFC 5321 §4.2: 2yz done, 4yz try again, 5yz never). */
export interface RecipientReply {
  readonly recipient: string;
  /** The reply code; 0 when the transaction broke without one (connection lost, timeout). */
  readonly code: number;
  readonly response: string;
}

/**
 * Thrown by `send` when no mail transaction took place with this target: it could not be
 * reached, it did not greet, or it refused the session before MAIL. The next MX may be tried.
 */
export class SmtpConnectError extends Error {
  constructor(
    message: string,
    /** The server's reply code when it gave one (e.g. a 421 or 554 greeting), else 0. */
    readonly code: number,
  ) {
    super(message);
    this.name = 'SmtpConnectError';
  }
}

export interface SmtpClient {
  /**
   * One transaction (EHLO, STARTTLS when offered, MAIL, RCPT…, DATA; PIPELINING when offered),
   * possibly over a session kept open from an earlier transaction to the same server (RSET first).
   * Resolves with one reply per recipient once the server answered the envelope; rejects with
   * SmtpConnectError when the session never got that far.
   */
  send(target: SmtpTarget, transaction: SmtpTransaction): Promise<RecipientReply[]>;
  close(): Promise<void>;
}
