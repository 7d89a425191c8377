/**
 * A message as a POP3 multi-line response body (RFC 1939 §3): CRLF line ends, every line that
 * starts with "." stuffed with one more ".", and the terminating ".CRLF". Sluice stores CRLF mail,
 * so clean lines are passed through as slices of the stored bytes; a bare LF or bare CR (which
 * only an import or an old store could hold) becomes CRLF, since a client must never see a line
 * end it could read as the end of the response.
 */

const CRLF = Buffer.from('\r\n');
const DOT = Buffer.from('.');
const TERMINATOR = Buffer.from('.\r\n');
const LF = 0x0a;
const CR = 0x0d;
const PERIOD = 0x2e;

export interface Pop3Body {
  /** The bytes to send after the `+OK` line, terminator included. */
  readonly data: Buffer;
  /** Octets of the message as sent, without the stuffed dots (RFC 1939 §11: what LIST should count). */
  readonly size: number;
}

/**
 * RETR (all of it) or TOP (`bodyLines` given, RFC 1939 §7): the header, the blank line after it,
 * and at most `bodyLines` lines of the body.
 */
export function pop3Body(raw: Buffer, bodyLines?: number): Pop3Body {
  const out: Buffer[] = [];
  const n = raw.length;
  let size = 0;
  let pos = 0;
  /** Start of the run of clean lines not pushed yet. */
  let run = 0;
  let nextCr = raw.indexOf(CR);
  let inBody = false;
  let bodyCount = 0;
  while (pos < n) {
    if (bodyLines !== undefined && inBody && bodyCount >= bodyLines) break;
    const lf = raw.indexOf(LF, pos);
    const next = lf === -1 ? n : lf + 1;
    let contentEnd = lf === -1 ? n : lf;
    if (lf !== -1 && contentEnd > pos && raw[contentEnd - 1] === CR) contentEnd--;
    if (nextCr !== -1 && nextCr < pos) nextCr = raw.indexOf(CR, pos);
    const bareCr = nextCr !== -1 && nextCr < contentEnd;
    const clean = lf !== -1 && contentEnd === lf - 1 && !bareCr && raw[pos] !== PERIOD;
    if (clean) {
      size += next - pos;
    } else {
      if (pos > run) out.push(raw.subarray(run, pos));
      // A bare CR ends a line too: each piece is its own line, stuffed on its own.
      let start = pos;
      for (;;) {
        const cr = bareCr ? raw.indexOf(CR, start) : -1;
        const end = cr !== -1 && cr < contentEnd ? cr : contentEnd;
        if (raw[start] === PERIOD && end > start) out.push(DOT);
        out.push(raw.subarray(start, end), CRLF);
        size += end - start + 2;
        if (end === contentEnd) break;
        start = end + 1;
        // A CR that is the very last byte ended the last line: no empty line after it.
        if (lf === -1 && start === contentEnd) break;
      }
      run = next;
    }
    if (inBody) bodyCount++;
    else if (contentEnd === pos) inBody = true;
    pos = next;
  }
  if (pos > run) out.push(raw.subarray(run, pos));
  out.push(TERMINATOR);
  return { data: Buffer.concat(out), size };
}
