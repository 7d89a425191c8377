/**
 * Content-Transfer-Encoding decoding (RFC 2045 §6): base64 leniently (characters outside the
 * alphabet ignored, missing padding tolerated), quoted-printable (RFC 2045 §6.7: soft line
 * breaks, =XX, a malformed `=` kept as is, trailing white space on a line dropped), and the
 * identity encodings. Null for an encoding we do not know.
 */

export function decodeTransfer(bytes: Buffer, encoding: string): Buffer | null {
  switch (encoding.toUpperCase()) {
    case '':
    case '7BIT':
    case '8BIT':
    case 'BINARY':
      return bytes;
    case 'BASE64':
      return decodeBase64(bytes);
    case 'QUOTED-PRINTABLE':
      return decodeQuotedPrintable(bytes);
    default:
      return null;
  }
}

export function decodeBase64(bytes: Buffer): Buffer {
  // Characters outside the alphabet are dropped; '=' ends a chunk (concatenated encodings
  // each end with their own padding); a dangling single character carries no whole byte.
  const chunks = bytes.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, '').split(/=+/);
  const out = chunks.map((chunk) => Buffer.from(chunk.length % 4 === 1 ? chunk.slice(0, -1) : chunk, 'base64'));
  return out.length === 1 ? out[0] : Buffer.concat(out);
}

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

export function decodeQuotedPrintable(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  let i = 0;
  const len = bytes.length;
  while (i < len) {
    const c = bytes[i];
    if (c === 0x3d) {
      // Soft line break: '=' [white space] CRLF / LF
      let j = i + 1;
      while (j < len && (bytes[j] === 0x20 || bytes[j] === 0x09)) j++;
      if (j < len && bytes[j] === 0x0d && bytes[j + 1] === 0x0a) {
        i = j + 2;
        continue;
      }
      if (j < len && bytes[j] === 0x0a) {
        i = j + 1;
        continue;
      }
      if (j === len) break;
      const hi = i + 2 < len ? hex(bytes[i + 1]) : -1;
      const lo = i + 2 < len ? hex(bytes[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 3;
        continue;
      }
      out[n++] = c;
      i++;
    } else if (c === 0x20 || c === 0x09) {
      // Trailing white space before a line end is padding added in transport.
      let j = i;
      while (j < len && (bytes[j] === 0x20 || bytes[j] === 0x09)) j++;
      if (j === len || bytes[j] === 0x0a || (bytes[j] === 0x0d && bytes[j + 1] === 0x0a)) i = j;
      else while (i < j) out[n++] = bytes[i++];
    } else {
      out[n++] = c;
      i++;
    }
  }
  return out.subarray(0, n);
}
