/**
 * Fuzzing the live MX listener (STYLE.md §12): random and mutated command lines, in every
 * connection state the corpus reaches (before EHLO, in a transaction, in DATA), never crash the
 * server: afterwards a fresh connection still gets its 220 and a 250 to NOOP. Bounded in time.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN, RawSmtpClient, startHarness, type Harness } from './smtp-test-kit.ts';

const CORPUS = [
  'EHLO fuzz.example',
  'HELO fuzz.example',
  'EHLO',
  'MAIL FROM:<sender@remote.example>',
  'MAIL FROM:<>',
  'MAIL FROM:<sender@remote.example> SIZE=99999999999999999999',
  'MAIL FROM:<sender@remote.example> BODY=8BITMIME SMTPUTF8',
  'MAIL FROM:<sender@remote.example> BODY=BINARYMIME',
  `RCPT TO:<alice@${DOMAIN}>`,
  `RCPT TO:<ALICE@${DOMAIN.toUpperCase()}>`,
  'RCPT TO:<victim@elsewhere.example>',
  'RCPT TO:<postmaster>',
  `RCPT TO:<"quoted local"@${DOMAIN}>`,
  'RCPT TO:<@relay.example:alice@example.test>',
  'DATA',
  'BDAT 5 LAST',
  'RSET',
  'NOOP',
  'VRFY alice',
  'EXPN staff',
  'HELP',
  'STARTTLS',
  'AUTH PLAIN AGFsaWNlAHg=',
  'XCLIENT ADDR=192.0.2.1',
  'GET / HTTP/1.1',
  '.',
  '..',
  'Subject: fuzz',
  '',
];

const line = fc.oneof(
  { arbitrary: fc.constantFrom(...CORPUS), weight: 5 },
  { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 60 }), weight: 2 },
  {
    // a corpus line with random bytes spliced in
    arbitrary: fc
      .tuple(fc.constantFrom(...CORPUS), fc.nat(), fc.string({ unit: 'binary', maxLength: 8 }))
      .map(([base, at, junk]) => base.slice(0, at % (base.length + 1)) + junk + base.slice(at % (base.length + 1))),
    weight: 2,
  },
  { arbitrary: fc.constant('X'.repeat(5000)), weight: 1 },
);
/** Valid openings that put the connection in each state before the fuzzed lines: greeted, after EHLO, in a transaction, in DATA. */
const EHLO = 'EHLO fuzz.example';
const TRANSACTION = [EHLO, 'MAIL FROM:<sender@remote.example>', `RCPT TO:<alice@${DOMAIN}>`];
const STATES: string[][] = [[], [EHLO], TRANSACTION, [...TRANSACTION, 'DATA']];
const session = fc
  .record({ state: fc.constantFrom(...STATES), lines: fc.array(line, { maxLength: 15 }), eol: fc.constantFrom('\r\n', '\r\n', '\n', '\r') })
  .map(({ state, lines, eol }) => ({ lines: [...state, ...lines], eol }));

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ maxSize: 64 * 1024 });
});
afterAll(async () => {
  await h?.close();
});

/** Plays one session, then ends any DATA and QUITs; waits (bounded) for the server to close. */
async function play(lines: string[], eol: string): Promise<void> {
  const client = await RawSmtpClient.connect(h.port);
  try {
    await client.read();
    client.write(Buffer.from(lines.join(eol) + '\r\n.\r\nQUIT\r\n', 'latin1'));
    await client.waitClosed(2000);
  } finally {
    client.close();
  }
}

async function noop(): Promise<number[]> {
  const client = await RawSmtpClient.connect(h.port);
  try {
    const banner = await client.read();
    const reply = await client.command('NOOP');
    return [banner.code, reply.code];
  } finally {
    client.close();
  }
}

describe('SMTP MX fuzzing', () => {
  it('survives random and mutated command sequences and still answers NOOP with 250', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(session, { minLength: 6, maxLength: 6 }), async (sessions) => {
        runs++;
        await Promise.all(sessions.map((s) => play(s.lines, s.eol)));
        expect(await noop()).toEqual([220, 250]);
      }),
      { numRuns: 500, interruptAfterTimeLimit: 4000, markInterruptAsFailure: false, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
    expect(runs).toBeGreaterThan(3);
    expect(await noop()).toEqual([220, 250]);
    if (process.env.FUZZ_DEBUG) console.log('runs', runs, 'records', (await h.records()).length);
  });
});
