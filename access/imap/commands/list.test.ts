/**
 * LIST-EXTENDED RECURSIVEMATCH and CHILDINFO (RFC 5258 §3.5) over a real server: the state of
 * imaptest's `listext` script (subscribed children, a deleted-but-subscribed mailbox).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggedIn, startImapTestEnv, type ImapTestEnv, type TestClient } from '../imap-test-kit.ts';

let t: ImapTestEnv;
let c: TestClient;

beforeAll(async () => {
  t = await startImapTestEnv();
  c = await loggedIn(t.port);
  for (const name of ['L/test1', 'L/test2/', 'L/test2/test1', 'L/test3', 'L/test7/test7', 'L/test8/test8', 'L/test8/test9']) {
    expect((await c.command(`CREATE ${name}`)).tagged).toMatch(/ OK /);
  }
  for (const name of ['L/test1', 'L/test2/test1', 'L/test7/test7', 'L/test8/test8', 'L/test8/test9']) {
    expect((await c.command(`SUBSCRIBE ${name}`)).tagged).toMatch(/ OK /);
  }
});

afterAll(async () => {
  c.close();
  await t.close();
});

describe('LIST (SUBSCRIBED RECURSIVEMATCH)', () => {
  it('gives CHILDINFO to a parent whose subscribed child the patterns do not list', async () => {
    const list = await c.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" (L/test2)');
    expect(list.untagged).toEqual(['* LIST (\\HasChildren) "/" "L/test2" ("CHILDINFO" ("SUBSCRIBED"))']);
  });

  it('leaves the parent out when the patterns list the subscribed child itself', async () => {
    const list = await c.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" (L/test2 L/test2/test1)');
    expect(list.untagged).toEqual(['* LIST (\\HasNoChildren \\Subscribed) "/" "L/test2/test1"']);
    expect((await c.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" L*test7')).untagged).toEqual([
      '* LIST (\\HasNoChildren \\Subscribed) "/" "L/test7/test7"',
    ]);
  });

  it('keeps CHILDINFO when at least one subscribed child is not listed', async () => {
    const list = await c.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" L*test8');
    expect(list.untagged).toEqual([
      '* LIST (\\HasChildren) "/" "L/test8" ("CHILDINFO" ("SUBSCRIBED"))',
      '* LIST (\\HasNoChildren \\Subscribed) "/" "L/test8/test8"',
    ]);
  });
});
