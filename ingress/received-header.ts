/** The trace header the MX listener prepends to every message (RFC 5321 §4.4). */
import { isIPv6 } from 'node:net';

export interface ReceivedInfo {
  /** HELO/EHLO argument. */
  readonly helo: string;
  /** Reverse-resolved name of the client, or its "[ip]" literal when there is none. */
  readonly clientHostname: string;
  readonly remoteAddress: string;
  /** Our host name (the "by" clause). */
  readonly hostname: string;
  /** RFC 3848 / RFC 6531 §3.7.3 protocol: SMTP, ESMTP, ESMTPS, UTF8SMTPS … */
  readonly protocol: string;
  readonly id: string;
  /** The "for" clause: only given for a single recipient (RFC 5321 §7.2: do not disclose the others). */
  readonly recipient?: string;
  readonly date: Date;
}

/** RFC 5321 §4.1.3 address literal: "[192.0.2.1]" or "[IPv6:2001:db8::1]". */
export function addressLiteral(ip: string): string {
  const plain = ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  return isIPv6(plain) ? `[IPv6:${plain}]` : `[${plain}]`;
}

/** RFC 5322 §3.3 date-time in UTC, e.g. "Tue, 04 Mar 2025 09:05:00 +0000". */
export function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

/** The whole header field, folded (RFC 5322 §2.2.3), ending in CRLF. */
export function receivedHeader(info: ReceivedInfo): string {
  // RFC 5321 §4.4: TCP-info = address-literal / ( Domain FWS address-literal )
  const literal = addressLiteral(info.remoteAddress);
  const reverse = info.clientHostname && !info.clientHostname.startsWith('[') ? `${info.clientHostname} ${literal}` : literal;
  const forClause = info.recipient ? `\r\n\tfor <${info.recipient}>` : '';
  return (
    `Received: from ${info.helo || literal} (${reverse})\r\n` +
    `\tby ${info.hostname} (Sluice) with ${info.protocol} id ${info.id}${forClause};\r\n` +
    `\t${rfc5322Date(info.date)}\r\n`
  );
}
