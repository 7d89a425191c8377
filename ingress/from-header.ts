/**
 * The author addresses of a message (RFC 5322 §3.6.2 `From:`), read from the raw header section,
 * for the submission listener's check that the authenticated user sends only as themselves.
 */
import { addressParser } from 'postal-mime';

/** The header section: everything before the first empty line (RFC 5322 §2.1). */
function headerSection(raw: Buffer): string {
  const end = raw.indexOf('\r\n\r\n');
  return raw.subarray(0, end === -1 ? raw.length : end + 2).toString('utf8');
}

/**
 * Every address of every `From:` field, lowercase, groups flattened. An empty list when there is
 * no From field (RFC 5322 §3.6: it is required, so the caller refuses that too).
 */
export function fromAddresses(raw: Buffer): string[] {
  // RFC 5322 §2.2.3: unfold (CRLF followed by WSP) before reading a field.
  const unfolded = headerSection(raw).replace(/\r\n(?=[ \t])/g, '');
  const out: string[] = [];
  for (const line of unfolded.split('\r\n')) {
    const m = /^from[ \t]*:(.*)$/i.exec(line);
    if (!m) continue;
    for (const entry of addressParser(m[1])) {
      const members = 'group' in entry && Array.isArray(entry.group) ? entry.group : [entry];
      for (const member of members) if (member.address) out.push(member.address.toLowerCase());
    }
  }
  return out;
}
