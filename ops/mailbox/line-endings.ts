/**
 * Line-ending conversion between the wire form of a message (CRLF, RFC 5322 §2.1, as received
 * over SMTP and as Sluice stores it) and the Unix form used by mbox and Maildir files (LF).
 */

const CR = 0x0d;
const LF = 0x0a;

/** Every LF not already preceded by CR becomes CRLF; everything else is left as it is. */
export function toCrlf(bytes: Buffer): Buffer {
  let bare = 0;
  for (let i = bytes.indexOf(LF); i >= 0; i = bytes.indexOf(LF, i + 1)) if (i === 0 || bytes[i - 1] !== CR) bare++;
  if (bare === 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + bare);
  let from = 0;
  let to = 0;
  for (let i = bytes.indexOf(LF); i >= 0; i = bytes.indexOf(LF, i + 1)) {
    if (i > 0 && bytes[i - 1] === CR) continue;
    to += bytes.copy(out, to, from, i);
    out[to++] = CR;
    from = i;
  }
  bytes.copy(out, to, from);
  return out;
}

/** Every CRLF becomes LF; a lone CR or LF is left as it is. */
export function toLf(bytes: Buffer): Buffer {
  const pieces: Buffer[] = [];
  let from = 0;
  for (let i = bytes.indexOf(LF); i >= 0; i = bytes.indexOf(LF, i + 1)) {
    if (i > 0 && bytes[i - 1] === CR) {
      pieces.push(bytes.subarray(from, i - 1));
      from = i;
    }
  }
  if (from === 0) return bytes;
  pieces.push(bytes.subarray(from));
  return Buffer.concat(pieces);
}
