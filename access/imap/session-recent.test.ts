/**
 * Session state over real sockets and the real pipeline: \Recent (RFC 3501 §2.3.2) across
 * sessions, SELECT/EXAMINE/STATUS/SEARCH/FETCH/COPY; FLAGS announced before a FETCH carries a
 * new keyword (RFC 9051 §7.3.5); names that are not valid modified UTF-7 (RFC 3501 §5.1.3).
 */
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { startImapTestEnv, loggedIn, type TestClient, type ImapTestEnv } from './imap-test-kit.ts';

let t: ImapTestEnv;

beforeAll(async () => {
  t = await startImapTestEnv();
});

afterAll(async () => {
  await t.close();
});

const message = (subject: string) => `From: sender@example.org\r\nTo: alice@example.test\r\nSubject: ${subject}\r\n\r\nHello ${subject}\r\n`;

async function append(c: TestClient, box: string, subject: string, flags = ''): Promise<void> {
  const raw = message(subject);
  const answer = await c.command(`APPEND ${box} ${flags ? `(${flags}) ` : ''}{${Buffer.byteLength(raw)}+}\r\n${raw}`);
  expect(answer.tagged).toMatch(/^T\d+ OK /);
}

describe('\\Recent (RFC 3501 §2.3.2)', () => {
  it('EXAMINE and STATUS count, SELECT claims once, FETCH and SEARCH show this session\'s recent messages', async () => {
    const a = await loggedIn(t.port);
    const b = await loggedIn(t.port);
    await a.command('CREATE Fresh');
    await append(a, 'Fresh', 'one');
    await append(a, 'Fresh', 'two', '\\Seen');

    const examine = await b.command('EXAMINE Fresh');
    expect(examine.untagged).toContain('* 2 RECENT');
    expect((await b.command('FETCH 1 FLAGS')).untagged).toEqual(['* 1 FETCH (FLAGS (\\Recent))']);
    expect((await b.command('STATUS Fresh (MESSAGES RECENT)')).untagged).toEqual(['* STATUS "Fresh" (MESSAGES 2 RECENT 2)']);
    await b.command('CLOSE');

    const select = await a.command('SELECT Fresh');
    expect(select.untagged).toContain('* 2 RECENT');
    expect((await a.command('FETCH 1:2 FLAGS')).untagged).toEqual(['* 1 FETCH (FLAGS (\\Recent))', '* 2 FETCH (FLAGS (\\Recent \\Seen))']);
    expect((await a.command('SEARCH RECENT')).untagged).toEqual(['* SEARCH 1 2']);
    expect((await a.command('SEARCH NEW')).untagged).toEqual(['* SEARCH 1']);
    expect((await a.command('SEARCH OLD')).untagged).toEqual(['* SEARCH']);

    // Claimed by a: nobody else sees them as recent.
    expect((await b.command('SELECT Fresh')).untagged).toContain('* 0 RECENT');
    expect((await b.command('FETCH 1 FLAGS')).untagged).toEqual(['* 1 FETCH (FLAGS ())']);
    expect((await b.command('SEARCH OLD')).untagged).toEqual(['* SEARCH 1 2']);
    expect((await b.command('STATUS INBOX (RECENT)')).untagged).toEqual(['* STATUS "INBOX" (RECENT 0)']);
    expect((await a.command('STATUS Fresh (RECENT)')).untagged).toEqual(['* STATUS "Fresh" (RECENT 0)']);

    // A new message goes to the first read-write session to notice it; RECENT follows EXISTS.
    await t.env.deliver('alice@example.test', message('three'), { mailbox: 'Fresh' });
    expect((await a.command('NOOP')).untagged).toEqual(['* 3 EXISTS', '* 3 RECENT']);
    expect((await b.command('NOOP')).untagged).toEqual(['* 3 EXISTS', '* 0 RECENT']);
    expect((await b.command('FETCH 3 FLAGS')).untagged).toEqual(['* 3 FETCH (FLAGS ())']);
    expect((await a.command('FETCH 3 FLAGS')).untagged).toEqual(['* 3 FETCH (FLAGS (\\Recent))']);

    // An expunged recent message leaves the count.
    await a.command('STORE 1 +FLAGS.SILENT (\\Deleted)');
    expect((await a.command('EXPUNGE')).untagged).toEqual(['* 1 EXPUNGE']);
    // b appends with the mailbox selected: it notices the new message first.
    await append(b, 'Fresh', 'four');
    expect((await a.command('NOOP')).untagged).toEqual(['* 3 EXISTS', '* 2 RECENT']);
    expect((await b.command('FETCH 3 FLAGS')).untagged).toEqual(['* 3 FETCH (FLAGS (\\Recent))']);
    a.close();
    b.close();
  });

  it('copies are recent for the next session that selects the target; not with IMAP4rev2', async () => {
    const a = await loggedIn(t.port);
    const b = await loggedIn(t.port);
    await a.command('CREATE Source');
    await a.command('CREATE Target');
    await append(a, 'Source', 'copied');
    await a.command('SELECT Source');
    expect((await b.command('SELECT Target')).untagged).toContain('* 0 RECENT');
    expect((await a.command('COPY 1 Target')).tagged).toMatch(/^T\d+ OK /);
    expect((await b.command('NOOP')).untagged).toEqual(['* 1 EXISTS', '* 1 RECENT']);
    expect((await b.command('FETCH 1 FLAGS')).untagged).toEqual(['* 1 FETCH (FLAGS (\\Recent))']);
    await b.command('CLOSE');

    const c = await loggedIn(t.port);
    await c.command('ENABLE IMAP4rev2');
    await a.command('COPY 1 Target');
    const select = await c.command('SELECT Target');
    expect(select.untagged.some((line) => line.includes('RECENT'))).toBe(false);
    expect((await c.command('FETCH 2 FLAGS')).untagged).toEqual(['* 2 FETCH (FLAGS ())']);
    await a.command('COPY 1 Target');
    expect((await c.command('NOOP')).untagged).toEqual(['* 3 EXISTS']);
    a.close();
    c.close();
  });
});

describe('FLAGS before a new keyword (RFC 9051 §7.3.5)', () => {
  it('STORE, FETCH and updates announce a keyword before the FETCH that carries it', async () => {
    const a = await loggedIn(t.port);
    const b = await loggedIn(t.port);
    await a.command('CREATE Keywords');
    await append(a, 'Keywords', 'k1');
    await append(a, 'Keywords', 'k2');
    await a.command('SELECT Keywords');
    await b.command('SELECT Keywords');

    const store = await a.command('STORE 1 +FLAGS ($hello)');
    expect(store.untagged[0]).toMatch(/^\* FLAGS \(.*\$hello\)$/);
    expect(store.untagged[1]).toMatch(/^\* OK \[PERMANENTFLAGS \(.*\$hello \\\*\)\]/);
    expect(store.untagged[2]).toMatch(/^\* 1 FETCH \(FLAGS \(.*\$hello\)\)$/);
    // Told once: the next STORE with it says nothing more.
    expect((await a.command('STORE 2 +FLAGS ($hello)')).untagged).toHaveLength(1);

    // b has not heard of $hello; its FETCH finds it in the store before the update would tell.
    const fetch = await b.command('FETCH 1 FLAGS');
    expect(fetch.untagged[0]).toMatch(/^\* FLAGS \(.*\$hello\)$/);
    expect(fetch.untagged[2]).toMatch(/^\* 1 FETCH \(FLAGS \(.*\$hello\)\)$/);

    await a.command('STORE 1 +FLAGS.SILENT ($other)');
    const noop = await b.command('NOOP');
    expect(noop.untagged[0]).toMatch(/^\* FLAGS \(.*\$other\)$/);
    expect(noop.untagged.at(-1)).toMatch(/^\* 1 FETCH \(UID \d+ FLAGS \(.*\$other.*\)\)$/);
    a.close();
    b.close();
  });
});

describe('names that are not valid modified UTF-7 (RFC 3501 §5.1.3)', () => {
  it('do not exist: SELECT answers NO, LIST matches nothing, CREATE is refused; the connection stays', async () => {
    const c = await loggedIn(t.port);
    const name = "!#$&'+,-.0123456789:;<=>?@^_`|[}";
    expect((await c.command(`SELECT ${name}`)).tagged).toMatch(/^T\d+ NO \[NONEXISTENT\]/);
    expect(await c.command(`LIST "" ${name}%*`)).toMatchObject({ untagged: [], tagged: expect.stringMatching(/^T\d+ OK /) });
    expect((await c.command(`STATUS ${name} (MESSAGES)`)).tagged).toMatch(/^T\d+ NO \[NONEXISTENT\]/);
    expect((await c.command(`CREATE ${name}`)).tagged).toMatch(/^T\d+ NO \[CANNOT\]/);
    expect((await c.command(`RENAME INBOX ${name}`)).tagged).toMatch(/^T\d+ NO \[CANNOT\]/);
    expect((await c.command('NOOP')).tagged).toMatch(/^T\d+ OK /);
    c.close();
  });
});
