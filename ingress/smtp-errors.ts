/**
 * The catalogue of SMTP replies the MX listener sends itself (STYLE.md §9: errors are protocol
 * values, mapped to the wire in one place). Each carries its RFC 3463 enhanced status code; the
 * details of an internal failure stay in the logs, the client only sees the generic reply.
 */

export class SmtpError extends Error {
  constructor(
    readonly code: number,
    /** RFC 3463 enhanced status code, e.g. "5.1.1". */
    readonly enhanced: string,
    readonly text: string,
  ) {
    super(`${code} ${enhanced} ${text}`);
    this.name = 'SmtpError';
  }

  /** 4yz: the client keeps the message and tries again later (RFC 5321 §4.2.1). */
  get temporary(): boolean {
    return this.code >= 400 && this.code < 500;
  }

  /**
   * The form smtp-server's callbacks take: `responseCode` and a message that starts with the
   * enhanced code (the MX server passes such a text through without adding a code of its own).
   */
  toServerError(): Error & { responseCode: number } {
    return Object.assign(new Error(`${this.enhanced} ${this.text}`), { responseCode: this.code });
  }
}

/** A reply text that already starts with an RFC 3463 enhanced status code. */
export const ENHANCED_CODE_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;

export const smtpErrors = {
  /** RFC 5321 §3.6.2, §4.2.2: we are no open relay. */
  relayDenied: () => new SmtpError(554, '5.7.1', 'Relay access denied'),
  /** RFC 5321 §4.2.2 550; RFC 3463 X.1.1 bad destination mailbox address. */
  userUnknown: (address: string) => new SmtpError(550, '5.1.1', `<${address}>: user unknown`),
  /** RFC 1870 §6.2 / RFC 3463 X.3.4: message too big for system. */
  messageTooBig: () => new SmtpError(552, '5.3.4', 'Message size exceeds fixed maximum'),
  /**
   * RFC 5321 §2.3.8, §4.1.1.4: bare CR or LF in the message (SMTP smuggling, see smtp-mx.ts).
   * X.6.0 "other or undefined media error": the content, not the envelope, is refused.
   */
  bareLineBreak: () => new SmtpError(550, '5.6.0', 'Message contains a bare CR or LF; lines must end with CRLF'),
  /** RFC 5321 §4.5.3.1.4 (command line length) with §4.2.2 500 "command line too long". */
  lineTooLong: () => new SmtpError(500, '5.5.2', 'Line too long'),
  /**
   * Submission: MAIL FROM or the From: header names an address the authenticated user does not
   * own. RFC 5321 §4.2.2 553 (mailbox name not allowed); RFC 3463 X.7.1 (not authorized).
   */
  senderNotOwned: (what: string) => new SmtpError(553, '5.7.1', `${what} is not an address of the authenticated user`),
  /** RFC 4954 §6: 538 5.7.11 — AUTH with a password mechanism before STARTTLS (RFC 3207 §4). */
  encryptionRequired: () => new SmtpError(538, '5.7.11', 'Encryption required for requested authentication mechanism; issue STARTTLS first'),
  /** RFC 4954 §6: 535 5.7.8 Authentication credentials invalid. */
  authFailed: () => new SmtpError(535, '5.7.8', 'Authentication credentials invalid'),
  /** RFC 4954 §6: 530 5.7.0 Authentication required. */
  authRequired: () => new SmtpError(530, '5.7.0', 'Authentication required'),
  /** RFC 5321 §4.2.2 451; RFC 3463 X.3.0: the sender must retry, nothing was accepted. */
  temporaryFailure: () => new SmtpError(451, '4.3.0', 'Temporary failure, please retry'),
} as const;
