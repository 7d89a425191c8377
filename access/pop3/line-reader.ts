/**
 * Splits a POP3 client's bytes into command lines (RFC 1939 §3: CRLF-terminated; a bare LF is
 * accepted too, as most servers do). A line longer than the limit is dropped up to its end and
 * reported as `LINE_TOO_LONG`, so a client can never make the server buffer without bound.
 */
export const LINE_TOO_LONG = Symbol('line too long');
export type ReadLine = string | typeof LINE_TOO_LONG;

export class LineReader {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private discarding = false;

  constructor(private readonly maxLength: number) {}

  /** Lines completed by this chunk, in order, without their line end. */
  push(chunk: Buffer): ReadLine[] {
    const lines: ReadLine[] = [];
    let start = 0;
    for (;;) {
      const lf = chunk.indexOf(0x0a, start);
      if (lf === -1) break;
      const piece = chunk.subarray(start, lf);
      start = lf + 1;
      if (this.discarding || this.pendingLength + piece.length > this.maxLength) {
        lines.push(LINE_TOO_LONG);
      } else {
        let line = this.pending.length > 0 ? Buffer.concat([...this.pending, piece]) : piece;
        if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
        lines.push(line.toString('utf8'));
      }
      this.pending = [];
      this.pendingLength = 0;
      this.discarding = false;
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0 && !this.discarding) {
      if (this.pendingLength + rest.length > this.maxLength) {
        this.discarding = true;
        this.pending = [];
        this.pendingLength = 0;
      } else {
        this.pending.push(Buffer.from(rest));
        this.pendingLength += rest.length;
      }
    }
    return lines;
  }

  /** Forgets everything buffered (RFC 2595 §4 after STLS: nothing sent in the clear is kept). */
  reset(): void {
    this.pending = [];
    this.pendingLength = 0;
    this.discarding = false;
  }
}
