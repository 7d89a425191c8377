/**
 * sequence-set (RFC 9051 §9): `1,3:5,7:*`, with `*` the largest number in use, and `$`, the
 * saved search result (RFC 5182 §2.1, seq-last-command), which stands alone.
 */
import type { SeqRange, SequenceSet } from '../command.ts';
import type { Scanner } from './scanner.ts';

/** More ranges than this in one set is abuse, not a client (the reader caps lines anyway). */
const MAX_RANGES = 100_000;

function seqNumber(s: Scanner): number | '*' {
  if (s.accept(0x2a)) return '*';
  return s.nzNumber('a sequence number');
}

export function sequenceSet(s: Scanner): SequenceSet {
  if (s.accept(0x24)) return { kind: 'saved' };
  const ranges: SeqRange[] = [];
  do {
    const start = seqNumber(s);
    const end = s.accept(0x3a) ? seqNumber(s) : start;
    ranges.push({ start, end });
    if (ranges.length > MAX_RANGES) s.fail('Sequence set is too long');
  } while (s.accept(0x2c));
  return { kind: 'set', ranges };
}

/** Whether the next byte can start a sequence set: a digit, `*` or `$`. */
export function startsSequenceSet(s: Scanner): boolean {
  const c = s.peek();
  return (c >= 0x31 && c <= 0x39) || c === 0x2a || c === 0x24;
}
