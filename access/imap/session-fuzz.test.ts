/**
 * Fuzzing the session in each connection state (STYLE.md §12): random and mutated command
 * lines never crash the server or hang it; every line gets an answer and the connection keeps
 * working (a NOOP afterwards is answered), except for commands that end it on purpose.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { startImapTestEnv, TestClient, loggedIn, type ImapTestEnv } from './imap-test-kit.ts';

const SEEDS = [
  'CAPABILITY', 'NOOP', 'ID NIL', 'ID ("a" "b")', 'LOGIN a b', 'LOGIN "alice@example.test" "x"', 'AUTHENTICATE PLAIN AGEAYg==',
  'ENABLE QRESYNC', 'ENABLE IMAP4rev2 UTF8=ACCEPT', 'NAMESPACE', 'SELECT INBOX', 'EXAMINE "Sent" (CONDSTORE)',
  'SELECT INBOX (QRESYNC (1 2 1:5))', 'CREATE "fz/a"', 'CREATE x (USE (\\Drafts))', 'DELETE "fz/a"', 'RENAME fz/a fz/b',
  'SUBSCRIBE fz', 'UNSUBSCRIBE fz', 'LIST "" *', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" % RETURN (CHILDREN STATUS (MESSAGES SIZE))',
  'LSUB "" %', 'STATUS INBOX (MESSAGES UIDNEXT DELETED SIZE HIGHESTMODSEQ)', 'GETQUOTAROOT INBOX', 'GETQUOTA ""',
  'SETQUOTA "" (STORAGE 1)', 'CHECK', 'UNSELECT', 'FETCH 1:* (FLAGS UID)', 'UID FETCH 1:* (BODY.PEEK[HEADER] MODSEQ) (CHANGEDSINCE 1)',
  'STORE 1 +FLAGS.SILENT (\\Seen)', 'UID STORE 1:* -FLAGS (\\Flagged)', 'SEARCH ALL', 'UID SEARCH RETURN (MIN MAX) TEXT hello',
  'SORT (DATE) UTF-8 ALL', 'THREAD REFERENCES UTF-8 ALL', 'COPY 1 Trash', 'UID MOVE 1 Archive', 'EXPUNGE', 'UID EXPUNGE 1:2',
];

/** Lines that would legitimately end the session or switch the byte stream. */
const ENDS = /\b(LOGOUT|STARTTLS|COMPRESS)\b/i;

const line = fc.oneof(
  fc.constantFrom(...SEEDS),
  fc.tuple(fc.constantFrom(...SEEDS), fc.nat(60), fc.string({ maxLength: 6 })).map(([s, at, ins]) => s.slice(0, at) + ins + s.slice(at + ins.length)),
  fc.string({ maxLength: 80 }),
  fc.tuple(fc.constantFrom('LOGIN', 'AUTHENTICATE PLAIN'), fc.string({ maxLength: 20 })).map(([c, rest]) => `${c} ${rest}`),
  fc.uint8Array({ maxLength: 60 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
).map((s) => s.replace(/[\r\n{]/g, ' '))
  .filter((s) => !ENDS.test(s));

let t: ImapTestEnv;

beforeAll(async () => {
  t = await startImapTestEnv();
  await t.env.deliver('alice@example.test', 'Subject: fuzz\r\n\r\nhello\r\n');
});

afterAll(async () => {
  await t.close();
});

/**
 * Sends one fuzz line, then a NOOP, and waits for the NOOP's answer (ending IDLE/AUTHENTICATE if
 * needed). False when the server said BYE (three failed logins on one connection, RFC 9051 §7.1.5).
 */
async function survives(c: TestClient, fuzz: string, n: number): Promise<boolean> {
  c.send(`F${n} ${fuzz}\r\nZ${n} NOOP\r\n`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      for (;;) {
        const response = await c.next(1500);
        if (response.startsWith(`Z${n} `)) return true;
        if (response.startsWith('* BYE ')) return false;
      }
    } catch (err) {
      if (c.closed) throw err;
      c.send(`DONE\r\n*\r\nZ${n} NOOP\r\n`); // a waiting IDLE or AUTHENTICATE exchange
    }
  }
  throw new Error(`no answer after ${JSON.stringify(fuzz)}`);
}

describe('session fuzzing', () => {
  for (const state of ['not authenticated', 'authenticated', 'selected'] as const) {
    it(`answers random and mutated commands in the ${state} state`, async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 8 }), async (lines) => {
          const c = state === 'not authenticated' ? await TestClient.connect(t.port) : await loggedIn(t.port);
          if (state === 'not authenticated') await c.next();
          if (state === 'selected') await c.command('SELECT INBOX');
          try {
            for (const fuzz of lines) {
              // A successful LOGIN/AUTHENTICATE or SELECT moves the state on: that is fine too.
              if (!(await survives(c, fuzz, ++n))) return;
            }
            const final = await c.command('NOOP');
            expect(final.tagged).toMatch(/^T\d+ OK /);
          } finally {
            c.close();
          }
        }),
        { numRuns: 50, seed: 20260301 },
      );
    }, 60_000);
  }
});
