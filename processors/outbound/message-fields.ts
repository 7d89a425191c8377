/**
 * What every outgoing message must carry (RFC 5322 §3.6: Date is required, Message-ID should
 * be there; RFC 2045 §4: MIME-Version), added where missing at the end of the header section.
 */

/** The header section (up to and including its final CRLF) and the rest (blank line and body). */
export function splitHeader(raw: Buffer): { header: Buffer; rest: Buffer } {
  const text = raw.toString('latin1');
  if (text.startsWith('\r\n')) return { header: Buffer.alloc(0), rest: raw };
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return { header: Buffer.concat([raw, Buffer.from(raw.length && !text.endsWith('\r\n') ? '\r\n' : '')]), rest: Buffer.from('\r\n') };
  return { header: raw.subarray(0, end + 2), rest: raw.subarray(end + 2) };
}

export function hasField(header: Buffer, name: string): boolean {
  return new RegExp(`^${name}[ \\t]*:`, 'im').test(header.toString('latin1'));
}

/** RFC 5322 §3.3 date-time in UTC: `Mon, 07 Dec 2026 06:00:00 +0000`. */
export function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

export interface MissingFieldValues {
  /** For Message-ID: `<id@host>`. */
  readonly messageId: string;
  readonly date: number;
}

/** The message with Message-ID, Date and MIME-Version added where absent; `added` names them. */
export function addMissingFields(raw: Buffer, values: MissingFieldValues): { message: Buffer; added: string[] } {
  const { header, rest } = splitHeader(raw);
  const lines: string[] = [];
  if (!hasField(header, 'message-id')) lines.push(`Message-ID: ${values.messageId}`);
  if (!hasField(header, 'date')) lines.push(`Date: ${rfc5322Date(values.date)}`);
  if (!hasField(header, 'mime-version')) lines.push('MIME-Version: 1.0');
  if (lines.length === 0) return { message: raw, added: [] };
  return { message: Buffer.concat([header, Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'latin1'), rest]), added: lines.map((l) => l.slice(0, l.indexOf(':'))) };
}
