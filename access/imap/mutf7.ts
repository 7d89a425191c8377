/**
 * Modified UTF-7 for mailbox names of IMAP4rev1 clients (RFC 3501 §5.1.3): printable US-ASCII
 * (0x20–0x7e) stands for itself except `&`, which is `&-`; any other run of characters is its
 * UTF-16BE in base64 (with `,` for `/`, no padding) between `&` and `-`.
 * IMAP4rev2 and UTF8=ACCEPT clients send UTF-8 instead (RFC 9051 §5.1, RFC 6855 §3).
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const B64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_VALUE[B64.charCodeAt(i)] = i;

/** A Unicode mailbox name as modified UTF-7. */
export function encodeMailboxName(name: string): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const c = name.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      out += c === 0x26 ? '&-' : name[i];
      i++;
      continue;
    }
    // A run of non-printable-ASCII UTF-16 code units, base64 of their big-endian bytes.
    let bits = 0;
    let nbits = 0;
    out += '&';
    while (i < name.length) {
      const u = name.charCodeAt(i);
      if (u >= 0x20 && u <= 0x7e) break;
      bits = ((bits << 16) | u) >>> 0;
      nbits += 16;
      while (nbits >= 6) {
        nbits -= 6;
        out += B64[(bits >>> nbits) & 0x3f];
      }
      bits &= (1 << nbits) - 1;
      i++;
    }
    if (nbits > 0) out += B64[(bits << (6 - nbits)) & 0x3f];
    out += '-';
  }
  return out;
}

/** Modified UTF-7 to Unicode; throws a TypeError on anything RFC 3501 §5.1.3 does not allow. */
export function decodeMailboxName(wire: string): string {
  let out = '';
  let i = 0;
  while (i < wire.length) {
    const c = wire.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new TypeError('Mailbox name has a character outside printable US-ASCII');
    if (c !== 0x26) {
      out += wire[i];
      i++;
      continue;
    }
    const end = wire.indexOf('-', i + 1);
    if (end === -1) throw new TypeError('Mailbox name has an unterminated "&" shift');
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      continue;
    }
    let bits = 0;
    let nbits = 0;
    let units = '';
    for (let j = i + 1; j < end; j++) {
      const v = wire.charCodeAt(j) < 128 ? B64_VALUE[wire.charCodeAt(j)] : -1;
      if (v < 0) throw new TypeError('Mailbox name has an invalid character in a base64 run');
      bits = ((bits << 6) | v) & 0xffffff;
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        units += String.fromCharCode((bits >>> nbits) & 0xffff);
      }
    }
    // Leftover bits must be fewer than 6 and zero (no padding, no partial code unit).
    if (nbits >= 6 || (bits & ((1 << nbits) - 1)) !== 0) throw new TypeError('Mailbox name has a malformed base64 run');
    for (let k = 0; k < units.length; k++) {
      const u = units.charCodeAt(k);
      if (u >= 0x20 && u <= 0x7e) throw new TypeError('Mailbox name encodes printable US-ASCII in base64');
      if (u >= 0xd800 && u <= 0xdbff) {
        const next = units.charCodeAt(k + 1);
        if (!(next >= 0xdc00 && next <= 0xdfff)) throw new TypeError('Mailbox name has an unpaired surrogate');
        k++;
      } else if (u >= 0xdc00 && u <= 0xdfff) {
        throw new TypeError('Mailbox name has an unpaired surrogate');
      }
    }
    out += units;
    i = end + 1;
    // RFC 3501 §5.1.3: "&AGE-&AIE-" is not allowed: one run must be one shift.
    if (wire.charCodeAt(i) === 0x26 && wire.charCodeAt(i + 1) !== 0x2d) {
      throw new TypeError('Mailbox name has adjacent base64 runs');
    }
  }
  return out;
}
