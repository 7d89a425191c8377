/**
 * Fuzzing the command parser and the reader (the "no crash, no hang, BAD replies"):
 * random bytes and mutations of a corpus of valid commands either parse or throw
 * ImapParseError, each quickly; the reader never throws and always gets back to commands.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ImapParseError } from './command.ts';
import { parseCommand } from './parse-command.ts';
import { CommandReader } from './wire/reader.ts';

const CORPUS = [
  'a1 CAPABILITY',
  'a2 LOGIN alice "secret pass"',
  'a3 LOGIN {5}\r\nalice {6+}\r\nsecret',
  'a4 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==',
  'a5 ENABLE CONDSTORE QRESYNC',
  'a6 ID ("name" "fuzz" "version" NIL)',
  'a7 SELECT INBOX (QRESYNC (1 2 1:9 (1:3 4:6)))',
  'a8 EXAMINE "Sent" (CONDSTORE)',
  'a9 CREATE Archive (USE (\\Archive))',
  'b1 RENAME a "b c"',
  'b2 LIST (SUBSCRIBED) "" ("a" b%) RETURN (CHILDREN STATUS (MESSAGES UNSEEN))',
  'b3 LSUB "" *',
  'b4 STATUS INBOX (MESSAGES UIDNEXT SIZE HIGHESTMODSEQ)',
  'b5 APPEND Sent (\\Seen) "17-Jul-1996 02:44:25 -0700" {5}\r\nhello',
  'b6 APPEND x ~{3}\r\n\0\0\0',
  'b7 SETQUOTA "" (STORAGE 512)',
  'b8 GETQUOTAROOT INBOX',
  'b9 FETCH 1:*,5 (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (From To)]<0.100> BINARY[1] BINARY.SIZE[2])',
  'c1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 5 VANISHED)',
  'c2 UID STORE 1:3 (UNCHANGEDSINCE 9) +FLAGS.SILENT (\\Seen $Junk)',
  'c3 UID MOVE $ Archive',
  'c4 UID EXPUNGE 1:5',
  'c5 SEARCH RETURN (MIN MAX COUNT) CHARSET UTF-8 OR FROM {3}\r\nbob NOT (SEEN 1:5) SINCE 1-Feb-2020 MODSEQ 5',
  'c6 UID SORT (REVERSE DATE SUBJECT) UTF-8 HEADER X-Y "z" LARGER 100',
  'c7 THREAD REFERENCES UTF-8 ALL',
  'c8 COMPRESS DEFLATE',
];

const INSERTS = ['{', '(', '"', ')', '\\', '{5}\r\n', '{99999999999999999999}\r\n', '~{2+}\r\n', ' ', '*', '$', ':', '[', ']', '<', '\r\n', '\0', '\xff'];

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; from: number; length: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), from: fc.nat(), length: fc.nat(40) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(...INSERTS) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.nat(10) }),
);

function mutate(input: Buffer, mutations: Mutation[]): Buffer {
  let buf = input;
  for (const m of mutations) {
    const at = buf.length === 0 ? 0 : ('at' in m ? m.at : m.from) % (buf.length + 1);
    switch (m.kind) {
      case 'flip':
        if (at < buf.length) {
          buf = Buffer.from(buf);
          buf[at] = m.value;
        }
        break;
      case 'truncate':
        buf = buf.subarray(0, at);
        break;
      case 'duplicate':
        buf = Buffer.concat([buf.subarray(0, at + m.length), buf.subarray(at, at + m.length), buf.subarray(at + m.length)]);
        break;
      case 'insert':
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.text, 'latin1'), buf.subarray(at)]);
        break;
      case 'delete':
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.length)]);
        break;
    }
  }
  return buf;
}

/** parseCommand's contract: a command, or an ImapParseError; within a few milliseconds. */
function checkParse(data: Buffer): void {
  const started = performance.now();
  try {
    const cmd = parseCommand(data);
    expect(typeof cmd.tag).toBe('string');
    expect(typeof cmd.name).toBe('string');
  } catch (error) {
    if (!(error instanceof ImapParseError)) throw error;
    // Errors wrapped by parseCommand's safety net carry a cause: that is a parser bug.
    expect(error.cause).toBeUndefined();
    expect(error.tag === null || typeof error.tag === 'string').toBe(true);
  }
  expect(performance.now() - started).toBeLessThan(500);
}

describe('parseCommand fuzz', () => {
  it('parses every corpus command', () => {
    for (const line of CORPUS) expect(() => parseCommand(Buffer.from(line, 'latin1')), line).not.toThrow();
  });

  it('random bytes: a command or an ImapParseError, never anything else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => checkParse(Buffer.from(bytes))), { numRuns: 1500 });
  });

  it('random printable commands: the same', () => {
    const word = fc.constantFrom('FETCH', 'UID', 'SEARCH', 'STORE', 'LIST', 'SELECT', 'APPEND', '(', ')', '1:*', '$', 'NOT', 'OR', 'BODY[', ']', '"x"', '{3}\r\nabc', 'RETURN', 'CHARSET');
    fc.assert(
      fc.property(fc.array(word, { maxLength: 30 }), (words) => checkParse(Buffer.from(`t ${words.join(' ')}`, 'latin1'))),
      { numRuns: 1000 },
    );
  });

  it('mutated corpus commands: the same', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CORPUS), fc.array(mutation, { minLength: 1, maxLength: 6 }), (line, mutations) => {
        checkParse(mutate(Buffer.from(line, 'latin1'), mutations));
      }),
      { numRuns: 3000 },
    );
  });

  it('pathological shapes stay fast', () => {
    const cases = [
      `t SEARCH ${'('.repeat(200_000)}`,
      `t SEARCH ${'NOT '.repeat(50_000)}ALL`,
      `t SEARCH ${'OR ALL '.repeat(50_000)}ALL`,
      `t FETCH ${'1,'.repeat(200_000)}1 FLAGS`,
      `t FETCH 1 (${'FLAGS '.repeat(100_000)}FLAGS)`,
      `t LOGIN ${'"'.repeat(100_000)}`,
      `t LOGIN ${'{1}\r\n'.repeat(100_000)}`,
      `t ID (${'"a" "b" '.repeat(1000)})`,
      `t FETCH 1 BODY[${'1.'.repeat(10_000)}1]`,
    ];
    for (const line of cases) checkParse(Buffer.from(line, 'latin1'));
  });
});

describe('CommandReader fuzz', () => {
  it('never throws on mutated streams and resumes after errors', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...CORPUS), fc.array(mutation, { maxLength: 3 })), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(2000), { maxLength: 8 }),
        (commands, cuts) => {
          let outputs = 0;
          const reader = new CommandReader({
            maxLineLength: 120,
            maxLiteral: (prefix) => (prefix.includes('APPEND') ? 500 : 50),
            onContinuation: () => {},
          });
          const stream = Buffer.concat(commands.map(([line, ms]) => Buffer.concat([mutate(Buffer.from(line, 'latin1'), ms), Buffer.from('\r\n')])));
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          let last = 0;
          for (const cut of [...points, stream.length]) {
            for (const out of reader.push(stream.subarray(last, cut))) {
              outputs++;
              if (out.kind === 'command') checkParse(out.data);
            }
            last = cut;
          }
          // At most a 500-byte literal can be pending: filler, line ends and a good command.
          const tail = reader.push(Buffer.from(`${'.'.repeat(600)}\r\n\r\nz NOOP\r\n`));
          expect(tail[tail.length - 1]).toEqual({ kind: 'command', data: Buffer.from('z NOOP') });
          expect(outputs + tail.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
