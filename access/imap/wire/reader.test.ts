import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CommandReader, extractTag, findLiteralMarker } from './reader.ts';
import type { ReaderOutput } from './reader.ts';

interface Run {
  outputs: ReaderOutput[];
  continuations: number;
  prefixes: string[];
}

function newReader(run: Run, maxLineLength = 100, appendLimit = 1000, otherLimit = 10): CommandReader {
  return new CommandReader({
    maxLineLength,
    maxLiteral: (prefix) => {
      run.prefixes.push(prefix.toString('latin1'));
      return / APPEND /i.test(prefix.toString('latin1')) ? appendLimit : otherLimit;
    },
    onContinuation: () => {
      run.continuations++;
      // The continuation goes out before the literal's bytes are read: mark it in the output.
      run.outputs.push({ kind: 'command', data: Buffer.from('<+>') });
    },
  });
}

/** Feeds `input` split at the given positions; returns outputs with data as text. */
function feed(input: string, cuts: number[] = [], limits: [number, number, number] = [100, 1000, 10]): Run {
  const run: Run = { outputs: [], continuations: 0, prefixes: [] };
  const reader = newReader(run, ...limits);
  const bytes = Buffer.from(input, 'latin1');
  let last = 0;
  for (const cut of [...cuts, bytes.length]) {
    run.outputs.push(...reader.push(bytes.subarray(last, cut)));
    last = cut;
  }
  return run;
}

function show(outputs: ReaderOutput[]): string[] {
  return outputs.map((o) => (o.kind === 'command' ? o.data.toString('latin1') : `!${o.code} ${o.tag ?? '-'}`));
}

/** RFC 9051 §4.3, RFC 7888, RFC 3516: the same result whatever the chunking. */
const CASES: Array<[string, string[]]> = [
  ['a NOOP\r\nb CAPABILITY\r\n', ['a NOOP', 'b CAPABILITY']],
  ['a NOOP\nb NOOP\r\n', ['a NOOP', 'b NOOP']],
  ['a LOGIN {5}\r\nalice {3}\r\npwd\r\n', ['<+>', '<+>', 'a LOGIN {5}\r\nalice {3}\r\npwd']],
  ['a LOGIN {5+}\r\nalice {3+}\r\npwd\r\nb NOOP\r\n', ['a LOGIN {5+}\r\nalice {3+}\r\npwd', 'b NOOP']],
  ['a APPEND x ~{6}\r\nab\r\n\0d\r\n', ['<+>', 'a APPEND x ~{6}\r\nab\r\n\0d']],
  ['a APPEND x {0}\r\n\r\n', ['<+>', 'a APPEND x {0}\r\n']],
  // Literal bytes that look like line ends and literal markers are data.
  ['a APPEND x {13+}\r\n{3}\r\nb NOOP\r\n\r\n', ['a APPEND x {13+}\r\n{3}\r\nb NOOP\r\n']],
  // RFC 7888 §4: a sync literal over the limit: error at once, no continuation, next byte is a new command.
  ['a LOGIN {50}\r\nb NOOP\r\n', ['!TOOBIG a', 'b NOOP']],
  // A non-sync literal over the limit: its bytes and the rest of the command are dropped first.
  ['a LOGIN {12+}\r\nb NOOP\r\nc NOOPx y\r\nd NOOP\r\n', ['!TOOBIG a', 'd NOOP']],
  ['a LOGIN {12+}\r\nb NOOP\r\nc NO {3+}\r\nxyz tail\r\nd NOOP\r\n', ['!TOOBIG a', 'd NOOP']],
  // APPEND gets the bigger limit.
  ['a APPEND x {20+}\r\n01234567890123456789\r\n', ['a APPEND x {20+}\r\n01234567890123456789']],
  // Untagged lines (AUTHENTICATE continuation, DONE) come out as they are.
  ['AGFsaWNlAHB3ZA==\r\nDONE\r\n\r\n', ['AGFsaWNlAHB3ZA==', 'DONE', '']],
];

describe('CommandReader', () => {
  for (const [input, expected] of CASES) {
    it(`frames ${JSON.stringify(input).slice(0, 60)} under every chunking`, () => {
      expect(show(feed(input).outputs)).toEqual(expected);
      for (let i = 0; i <= input.length; i++) {
        expect(show(feed(input, [i]).outputs), `cut at ${i}`).toEqual(expected);
      }
      // One byte at a time.
      const all = Array.from({ length: input.length }, (_, i) => i + 1);
      expect(show(feed(input, all).outputs)).toEqual(expected);
    });
  }

  it('gives maxLiteral the command so far, including the marker line', () => {
    const run = feed('a LOGIN {3}\r\nbob {2+}\r\npw\r\n');
    expect(run.prefixes).toEqual(['a LOGIN {3}', 'a LOGIN {3}\r\nbob {2+}']);
    expect(run.continuations).toBe(1);
  });

  it('reports an overlong line with its tag and resyncs at the next line end', () => {
    const long = `t1 NOOP ${'x'.repeat(200)}\r\nt2 NOOP\r\n`;
    for (let i = 0; i <= long.length; i += 7) {
      expect(show(feed(long, [i]).outputs), `cut at ${i}`).toEqual(['!LINE t1', 't2 NOOP']);
    }
  });

  it('accepts a line of exactly maxLineLength bytes, even with the CRLF split', () => {
    const line = `t ${'y'.repeat(98)}`; // 100 bytes
    for (let i = 0; i <= line.length + 2; i++) {
      expect(show(feed(`${line}\r\nu NOOP\r\n`, [i]).outputs)).toEqual([line, 'u NOOP']);
    }
    expect(show(feed(`${line}z\r\n`).outputs)).toEqual(['!LINE t']);
  });

  it('applies the line limit to each line of a command, not to its literals', () => {
    const input = `a APPEND x {200+}\r\n${'m'.repeat(200)}\r\n`;
    expect(show(feed(input, [], [30, 1000, 10]).outputs)).toEqual([input.slice(0, -2)]);
    const second = `a LOGIN {1+}\r\nb ${'z'.repeat(40)}\r\nc NOOP\r\n`;
    expect(show(feed(second, [], [30, 1000, 10]).outputs)).toEqual(['!LINE a', 'c NOOP']);
  });

  it('skips a non-sync literal announced at the end of an overlong line', () => {
    const input = `a LOGIN ${'q'.repeat(120)} {9+}\r\nb NOOP\r\n\r\nc NOOP\r\n`;
    expect(show(feed(input).outputs)).toEqual(['!LINE a', 'c NOOP']);
  });

  it('does not take a literal marker that is not at the line end', () => {
    expect(show(feed('a X {3} y\r\n').outputs)).toEqual(['a X {3} y']);
    expect(findLiteralMarker(Buffer.from('a {12}'), 0, 6)).toEqual({ length: 12, sync: true });
    expect(findLiteralMarker(Buffer.from('a {12+}'), 0, 7)).toEqual({ length: 12, sync: false });
    expect(findLiteralMarker(Buffer.from('a {}'), 0, 4)).toBeNull();
    expect(findLiteralMarker(Buffer.from('a 12}'), 0, 5)).toBeNull();
    expect(findLiteralMarker(Buffer.from('{1+}'), 1, 4)).toBeNull();
  });

  it('extracts tags only when they are valid', () => {
    expect(extractTag(Buffer.from('A001 NOOP'))).toBe('A001');
    expect(extractTag(Buffer.from('+ NOOP'))).toBeNull();
    expect(extractTag(Buffer.from('a+b NOOP'))).toBeNull();
    expect(extractTag(Buffer.from('a(b NOOP'))).toBeNull();
    expect(extractTag(Buffer.from('DONE'))).toBeNull();
    expect(extractTag(Buffer.from('x'.repeat(100) + ' NOOP'))).toBeNull();
  });

  it('keeps literal bytes exact, including bytes over 0x7f and NUL', () => {
    const body = Buffer.from([0, 1, 0x0d, 0x0a, 0xff, 0x7b, 0x7d]);
    const run: Run = { outputs: [], continuations: 0, prefixes: [] };
    const reader = newReader(run);
    const out = [
      ...reader.push(Buffer.from(`a APPEND x ~{${body.length}+}\r\n`)),
      ...reader.push(body),
      ...reader.push(Buffer.from('\r\n')),
    ];
    expect(out).toHaveLength(1);
    const data = (out[0] as { data: Buffer }).data;
    expect(data.subarray(data.length - body.length).equals(body)).toBe(true);
  });

  it('never throws and always recovers: random garbage then a good command', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 5 }), (garbage, cuts) => {
        const run: Run = { outputs: [], continuations: 0, prefixes: [] };
        const reader = newReader(run, 50, 100, 20);
        const bytes = Buffer.from(garbage);
        const sorted = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
        let last = 0;
        for (const cut of [...sorted, bytes.length]) {
          reader.push(bytes.subarray(last, cut));
          last = cut;
        }
        // Whatever state the garbage left (an unfinished literal at most 100 bytes, a skipped
        // line), enough filler and line ends bring it back to reading commands.
        const out = reader.push(Buffer.from(`${'.'.repeat(120)}\r\n\r\nz9 NOOP\r\n`));
        const last2 = out[out.length - 1];
        expect(last2).toEqual({ kind: 'command', data: Buffer.from('z9 NOOP') });
      }),
      { numRuns: 500 },
    );
  });

  it('frames a large pipelined batch in linear time', () => {
    const run: Run = { outputs: [], continuations: 0, prefixes: [] };
    const reader = newReader(run, 8192, 1 << 20, 1000);
    const one = 'a UID STORE 1:100 +FLAGS.SILENT (\\Seen)\r\n';
    const batch = Buffer.from(one.repeat(20_000));
    const started = performance.now();
    let count = 0;
    for (let i = 0; i < batch.length; i += 16384) count += reader.push(batch.subarray(i, i + 16384)).length;
    expect(count).toBe(20_000);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('CommandReader pauseAfter (STARTTLS, COMPRESS)', () => {
  const make = () =>
    new CommandReader({
      maxLineLength: 100,
      maxLiteral: () => 100,
      onContinuation: () => {},
      pauseAfter: (data) => /^\S+ STARTTLS$/i.test(data.toString('latin1')),
    });

  it('stops after the command and keeps the rest of the chunk unread', () => {
    const reader = make();
    const out = reader.push(Buffer.from('a NOOP\r\nb STARTTLS\r\n\x16\x03\x01junk\r\nc NOOP\r\n'));
    expect(show(out)).toEqual(['a NOOP', 'b STARTTLS']);
    expect(reader.takeRemainder().toString('latin1')).toBe('\x16\x03\x01junk\r\nc NOOP\r\n');
    expect(show(reader.push(Buffer.from('d NOOP\r\n')))).toEqual(['d NOOP']);
  });

  it('frames the kept bytes first when the remainder is not taken', () => {
    const reader = make();
    expect(show(reader.push(Buffer.from('b STARTTLS\r\nc NO')))).toEqual(['b STARTTLS']);
    expect(show(reader.push(Buffer.from('OP\r\n')))).toEqual(['c NOOP']);
  });

  it('keeps nothing when the command ends the chunk', () => {
    const reader = make();
    expect(show(reader.push(Buffer.from('b STARTTLS\r\n')))).toEqual(['b STARTTLS']);
    expect(reader.takeRemainder().length).toBe(0);
    expect(show(reader.push(Buffer.from('c NOOP\r\n')))).toEqual(['c NOOP']);
  });
});
