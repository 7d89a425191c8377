/**
 * Bare CR / bare LF detection in DATA (RFC 5321 §2.3.8: CR and LF appear only together, as the
 * line terminator CRLF; §4.1.1.4: "<LF>.<LF>" MUST NOT be taken as the end of the mail data).
 */

const CR = 0x0d;
const LF = 0x0a;

/**
 * The offset of the first CR not followed by LF, or LF not preceded by CR, in `data` at or after
 * `from`; -1 when every line break is a CRLF. Scans with `indexOf`, so it is fast on large bodies.
 */
export function findBareLineBreak(data: Buffer, from = 0): number {
  let bare = -1;
  for (let i = data.indexOf(CR, from); i !== -1; i = data.indexOf(CR, i + 1)) {
    if (data[i + 1] !== LF) {
      bare = i;
      break;
    }
  }
  const limit = bare === -1 ? data.length : bare;
  for (let i = data.indexOf(LF, from); i !== -1 && i < limit; i = data.indexOf(LF, i + 1)) {
    if (i === 0 || data[i - 1] !== CR) return i;
  }
  return bare;
}
