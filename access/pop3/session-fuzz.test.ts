// Fuzz of the POP3 session in each state (AUTHORIZATION before and after TLS, TRANSACTION):
// random and mutated command lines get `+OK`/`-ERR` replies, never a crash or a hang.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAccessTestEnv, type AccessTestEnv } from '../test-kit.ts';
import { login, PASSWORD, Pop3TestClient, startPop3Harness, testMessage, type Pop3Harness } from './pop3-test-kit.ts';

let env: AccessTestEnv;
let pop3: Pop3Harness;
const ADDRESS = 'fuzz@example.test';

beforeAll(async () => {
  env = await startAccessTestEnv();
  pop3 = await startPop3Harness({ env, allowPlaintextAuth: true, maxLineLength: 200 });
  await env.addUser(ADDRESS, PASSWORD);
  await env.store.updateUser(ADDRESS, { pop3KeepMail: true });
  await env.deliverMany(ADDRESS, [testMessage('f1', '.x\r\n'), testMessage('f2', 'y\r\n')]);
});

afterAll(async () => {
  await pop3?.close();
  await env?.close();
});

const KEYWORDS = ['USER', 'PASS', 'AUTH', 'STLS', 'CAPA', 'QUIT', 'STAT', 'LIST', 'RETR', 'DELE', 'NOOP', 'RSET', 'TOP', 'UIDL', 'APOP', 'XTND'];
const argument = fc.oneof(
  fc.constantFrom('', '1', '2', '3', '0', '-1', '1 0', '2 5', 'PLAIN', 'PLAIN =', 'PLAIN *', '99999999999999', ADDRESS, '\u00e9', ' ', '  1'),
  fc.string({ maxLength: 12 }).filter((s) => !/[\r\n]/.test(s)),
);
const commandLine = fc.oneof(
  fc.tuple(fc.constantFrom(...KEYWORDS), argument, fc.boolean()).map(([k, a, lower]) => `${lower ? k.toLowerCase() : k}${a ? ` ${a}` : ''}`),
  fc.string({ maxLength: 300 }).filter((s) => !/[\r\n]/.test(s) && !/^(quit|stls|auth)/i.test(s.trim())),
);

/** Multi-line replies (RFC 1939 §3) by keyword, when `+OK`. */
function isMultiLine(line: string): boolean {
  const [keyword, ...rest] = line.split(' ');
  const args = rest.join(' ').trim();
  switch (keyword.toUpperCase()) {
    case 'CAPA':
      return true;
    case 'LIST':
    case 'UIDL':
      return args === '';
    case 'RETR':
    case 'TOP':
      return true;
    case 'AUTH':
      return args === '';
    default:
      return false;
  }
}

async function exercise(client: Pop3TestClient, lines: string[]): Promise<void> {
  for (const line of lines) {
    if (/^(quit|stls)\b/i.test(line) || /^auth\s+plain\s*$/i.test(line)) continue;
    const reply = await client.command(line);
    expect(reply, line).toMatch(/^(\+OK|-ERR)( |$)/);
    if (reply.startsWith('+OK') && isMultiLine(line)) await client.readMulti();
  }
}

async function alive(client: Pop3TestClient): Promise<void> {
  const capa = await client.multi('CAPA');
  expect(capa.status).toMatch(/^\+OK/);
  expect(capa.lines).toContain('UIDL');
}

describe('session fuzz', () => {
  it('AUTHORIZATION state: random commands never break the session', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandLine, { maxLength: 12 }), async (lines) => {
        const client = await Pop3TestClient.connect(pop3.port);
        try {
          await client.expectLine();
          await exercise(client, lines.filter((l) => !/^pass\b/i.test(l)));
          await alive(client);
        } finally {
          client.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('TRANSACTION state: random commands never break the session', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandLine, { maxLength: 12 }), async (lines) => {
        const client = await Pop3TestClient.connect(pop3.tlsPort, { tls: true });
        try {
          await client.expectLine();
          // The previous run's close may still be releasing the lock (RFC 1939 §8).
          let reply = await login(client, ADDRESS);
          for (let i = 0; i < 50 && reply.includes('[IN-USE]'); i++) {
            await new Promise((resolve) => setTimeout(resolve, 10));
            reply = await login(client, ADDRESS);
          }
          expect(reply).toMatch(/^\+OK/);
          await exercise(client, lines);
          await alive(client);
        } finally {
          client.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
