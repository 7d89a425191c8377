/**
 * The authenticated and selected states over real sockets and the real pipeline: mailbox
 * commands (RFC 9051 §6.3), LIST-EXTENDED/LIST-STATUS/SPECIAL-USE, STATUS, APPEND with
 * APPENDUID, SELECT with CONDSTORE/QRESYNC (RFC 7162), untagged updates between sessions
 * (§7.5.1), IDLE (RFC 2177) woken by a delivery, CLOSE, QUOTA (RFC 9208), ENABLE, ID, NAMESPACE.
 */
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { startImapTestEnv, loggedIn, type ImapTestEnv } from './imap-test-kit.ts';

let t: ImapTestEnv;

const message = (subject: string) => `From: sender@example.org\r\nTo: alice@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n\r\nHello ${subject}\r\n`;

beforeAll(async () => {
  t = await startImapTestEnv({ quotaBytes: 10 * 1024 * 1024 });
});

afterAll(async () => {
  await t.close();
});

async function mailbox(user: string, name: string) {
  const found = await t.env.store.mailbox(user, name);
  if (!found) throw new Error(`no mailbox ${name}`);
  return found;
}

describe('mailboxes', () => {
  it('CREATE, LIST, SUBSCRIBE, LSUB, RENAME, DELETE (RFC 9051 §6.3.4–§6.3.9)', async () => {
    const c = await loggedIn(t.port, 'bob@example.test');
    expect((await c.command('CREATE Projects/2024')).tagged).toMatch(/^T\d+ OK /);
    expect((await c.command('CREATE Projects/2024')).tagged).toMatch(/^T\d+ NO \[ALREADYEXISTS\]/);
    expect((await c.command('CREATE inbox')).tagged).toMatch(/^T\d+ NO \[ALREADYEXISTS\]/);
    expect((await c.command('CREATE Receipts (USE (\\Flagged))')).tagged).toMatch(/^T\d+ NO \[USEATTR\]/);

    let list = await c.command('LIST "" *');
    expect(list.untagged[0]).toBe('* LIST (\\HasNoChildren) "/" "INBOX"');
    // The store made the superior too (RFC 9051 §6.3.4); deleting it leaves the inferior.
    expect(list.untagged).toContain('* LIST (\\HasChildren) "/" "Projects"');
    expect((await c.command('DELETE Projects')).tagged).toMatch(/^T\d+ OK /);
    list = await c.command('LIST "" *');
    expect(list.untagged).toContain('* LIST (\\Noselect \\HasChildren) "/" "Projects"');
    expect(list.untagged).toContain('* LIST (\\HasNoChildren) "/" "Projects/2024"');
    expect(list.untagged).toContain('* LIST (\\HasNoChildren \\Sent) "/" "Sent"');
    list = await c.command('LIST "" %');
    expect(list.untagged).toContain('* LIST (\\Noselect \\HasChildren) "/" "Projects"');
    expect(list.untagged.some((l) => l.includes('2024'))).toBe(false);
    list = await c.command('LIST Projects/ %');
    expect(list.untagged).toEqual(['* LIST (\\HasNoChildren) "/" "Projects/2024"']);
    // RFC 9051 §6.3.9: the empty pattern asks for the delimiter.
    expect((await c.command('LIST "" ""')).untagged).toEqual(['* LIST (\\Noselect) "/" ""']);

    expect((await c.command('SUBSCRIBE Projects/2024')).tagged).toMatch(/^T\d+ OK /);
    // The default mailboxes start subscribed.
    expect((await c.command('LSUB "" *')).untagged).toContain('* LSUB () "/" "Sent"');
    expect((await c.command('LSUB "" Projects*')).untagged).toEqual(['* LSUB () "/" "Projects/2024"']);
    expect((await c.command('LSUB "" P%')).untagged).toEqual(['* LSUB (\\Noselect) "/" "Projects"']);
    // RFC 5258: selection and return options, \NonExistent and CHILDINFO.
    list = await c.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" P% RETURN (CHILDREN)');
    expect(list.untagged).toEqual(['* LIST (\\NonExistent \\HasChildren) "/" "Projects" ("CHILDINFO" ("SUBSCRIBED"))']);
    list = await c.command('LIST (SUBSCRIBED) "" P*');
    expect(list.untagged).toEqual(['* LIST (\\HasNoChildren \\Subscribed) "/" "Projects/2024"']);

    expect((await c.command('RENAME Projects/2024 Projects/2025')).tagged).toMatch(/^T\d+ OK /);
    expect((await c.command('RENAME Projects/2024 Elsewhere')).tagged).toMatch(/^T\d+ NO \[NONEXISTENT\]/);
    list = await c.command('LIST "" Projects/*');
    expect(list.untagged).toEqual(['* LIST (\\HasNoChildren) "/" "Projects/2025"']);
    expect((await c.command('UNSUBSCRIBE Projects/2024')).tagged).toMatch(/^T\d+ OK /);
    expect((await c.command('LSUB "" P*')).untagged).toEqual([]);

    expect((await c.command('DELETE Projects/2025')).tagged).toMatch(/^T\d+ OK /);
    expect((await c.command('DELETE Projects/2025')).tagged).toMatch(/^T\d+ NO \[NONEXISTENT\]/);
    expect((await c.command('DELETE INBOX')).tagged).toMatch(/^T\d+ NO /);
    // RENAME made the superior again (RFC 9051 §6.3.6).
    expect((await c.command('LIST "" Projects*')).untagged).toEqual(['* LIST (\\HasNoChildren) "/" "Projects"']);
    c.close();
  });

  it('LIST special-use, LIST-STATUS and STATUS with SIZE and HIGHESTMODSEQ', async () => {
    await t.env.deliver('alice@example.test', message('status one'));
    const c = await loggedIn(t.port);
    const special = await c.command('LIST (SPECIAL-USE) "" *');
    expect(special.untagged).toEqual([
      '* LIST (\\HasNoChildren \\Archive) "/" "Archive"',
      '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"',
      '* LIST (\\HasNoChildren \\Junk) "/" "Junk"',
      '* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
      '* LIST (\\HasNoChildren \\Trash) "/" "Trash"',
    ]);
    const inbox = await mailbox('alice@example.test', 'INBOX');
    const listStatus = await c.command('LIST "" INBOX RETURN (STATUS (MESSAGES UIDNEXT))');
    expect(listStatus.untagged).toEqual([
      '* LIST (\\HasNoChildren) "/" "INBOX"',
      `* STATUS "INBOX" (MESSAGES ${inbox.messages} UIDNEXT ${inbox.uidNext})`,
    ]);
    const status = await c.command('STATUS inbox (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ RECENT)');
    expect(status.untagged).toEqual([
      `* STATUS "INBOX" (MESSAGES ${inbox.messages} UIDNEXT ${inbox.uidNext} UIDVALIDITY ${inbox.uidValidity} UNSEEN ${inbox.unseen} DELETED 0 SIZE ${inbox.size} HIGHESTMODSEQ ${inbox.highestModseq} RECENT 0)`,
    ]);
    expect(inbox.messages).toBeGreaterThan(0);
    expect((await c.command('STATUS Nowhere (MESSAGES)')).tagged).toMatch(/^T\d+ NO \[NONEXISTENT\]/);
    c.close();
  });

  it('modified UTF-7 names for IMAP4rev1, UTF-8 once enabled (RFC 3501 §5.1.3, RFC 9051 §5.1)', async () => {
    const c = await loggedIn(t.port);
    expect((await c.command('CREATE "&AMk-t&AOk-"')).tagged).toMatch(/^T\d+ OK /);
    expect(await t.env.store.mailbox('alice@example.test', 'Été')).not.toBeNull();
    expect((await c.command('LIST "" "&AMk-*"')).untagged).toEqual(['* LIST (\\HasNoChildren) "/" "&AMk-t&AOk-"']);
    // Not valid modified UTF-7: no such mailbox can exist, so none can be created (RFC 3501 §5.1.3).
    expect((await c.command('CREATE "&Jjo"')).tagged).toMatch(/^T\d+ NO \[CANNOT\] /);
    expect((await c.command('SELECT "&Jjo"')).tagged).toMatch(/^T\d+ NO \[NONEXISTENT\] /);
    const enable = await c.command('ENABLE IMAP4rev2');
    expect(enable.untagged).toEqual(['* ENABLED IMAP4rev2']);
    expect((await c.command('LIST "" "É*"')).untagged).toEqual(['* LIST (\\HasNoChildren) "/" "Été"']);
    c.close();
  });
});

describe('APPEND and SELECT', () => {
  it('APPEND answers APPENDUID once stored, TRYCREATE for a missing mailbox (RFC 4315 §3, RFC 9051 §6.3.12)', async () => {
    const c = await loggedIn(t.port);
    const raw = message('appended');
    c.send(`A1 APPEND Drafts (\\Draft \\Seen) "05-Mar-2024 10:00:00 +0000" {${Buffer.byteLength(raw)}}\r\n`);
    expect(await c.next()).toMatch(/^\+ /);
    c.send(`${raw}\r\n`);
    const drafts = await mailbox('alice@example.test', 'Drafts');
    const answer = await c.next();
    expect(answer).toMatch(new RegExp(`^A1 OK \\[APPENDUID ${drafts.uidValidity} \\d+\\] APPEND completed$`));
    const uid = Number(/APPENDUID \d+ (\d+)/.exec(answer)![1]);
    const [stored] = await t.env.store.messagesByUid(drafts.id, [uid]);
    expect(stored.flags).toEqual(expect.arrayContaining(['\\Draft', '\\Seen']));
    expect(stored.receivedAt).toBe(Date.UTC(2024, 2, 5, 10));
    // LITERAL+ (RFC 7888): no continuation.
    c.send(`A2 APPEND Nowhere {${Buffer.byteLength(raw)}+}\r\n${raw}\r\n`);
    expect(await c.next()).toMatch(/^A2 NO \[TRYCREATE\]/);
    c.close();
  });

  it('SELECT and EXAMINE report the mailbox (RFC 9051 §6.3.2), CONDSTORE adds HIGHESTMODSEQ', async () => {
    const c = await loggedIn(t.port);
    const inbox = await mailbox('alice@example.test', 'INBOX');
    const select = await c.command('SELECT INBOX (CONDSTORE)');
    expect(select.untagged).toContain(`* ${inbox.messages} EXISTS`);
    expect(select.untagged).toContain('* 0 RECENT');
    expect(select.untagged).toContain(`* OK [UIDVALIDITY ${inbox.uidValidity}] UIDs valid`);
    expect(select.untagged).toContain(`* OK [UIDNEXT ${inbox.uidNext}] Predicted next UID`);
    expect(select.untagged).toContain(`* OK [HIGHESTMODSEQ ${inbox.highestModseq}] Highest`);
    expect(select.untagged.some((l) => /^\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft/.test(l))).toBe(true);
    expect(select.untagged.some((l) => l.startsWith('* OK [PERMANENTFLAGS (') && l.includes('\\*'))).toBe(true);
    expect(select.tagged).toMatch(/^T\d+ OK \[READ-WRITE\] SELECT completed$/);
    const examine = await c.command('EXAMINE Drafts');
    expect(examine.untagged[0]).toBe('* OK [CLOSED] Previous mailbox is now closed');
    expect(examine.untagged).toContain('* OK [PERMANENTFLAGS ()] Flags permitted');
    expect(examine.tagged).toMatch(/^T\d+ OK \[READ-ONLY\] EXAMINE completed$/);
    expect((await c.command('SELECT Nowhere')).tagged).toMatch(/^T\d+ NO \[NONEXISTENT\]/);
    // A failed SELECT leaves no mailbox selected (RFC 9051 §6.3.2).
    expect((await c.command('CHECK')).tagged).toMatch(/^T\d+ BAD /);
    c.close();
  });

  it('SELECT with QRESYNC reports VANISHED (EARLIER) and changed flags since a MODSEQ (RFC 7162 §3.2.5)', async () => {
    await t.env.deliver('alice@example.test', message('qresync a'), { mailbox: 'Archive' });
    await t.env.deliver('alice@example.test', message('qresync b'), { mailbox: 'Archive' });
    await t.env.deliver('alice@example.test', message('qresync c'), { mailbox: 'Archive' });
    const archive = await mailbox('alice@example.test', 'Archive');
    const [a, b, cUid] = (await t.env.store.summaries(archive.id)).map((m) => m.uid);
    const since = archive.highestModseq;
    await t.env.service.change('alice@example.test', { setFlags: { mailboxId: archive.id, uids: [b], mode: 'add', flags: ['\\Flagged'], unchangedSince: null } });
    await t.env.service.change('alice@example.test', { expunge: { mailboxId: archive.id, uids: [a], onlyDeleted: false } });

    const c = await loggedIn(t.port);
    expect((await c.command(`SELECT Archive (QRESYNC (${archive.uidValidity} ${since}))`)).tagged).toMatch(/^T\d+ BAD /);
    expect((await c.command('ENABLE QRESYNC')).untagged).toEqual(['* ENABLED QRESYNC']);
    const select = await c.command(`SELECT Archive (QRESYNC (${archive.uidValidity} ${since}))`);
    expect(select.untagged).toContain(`* VANISHED (EARLIER) ${a}`);
    const modseq = (await t.env.store.messagesByUid(archive.id, [b]))[0].modseq;
    expect(select.untagged).toContain(`* 1 FETCH (UID ${b} FLAGS (\\Flagged) MODSEQ (${modseq}))`);
    expect(select.untagged.some((l) => l.includes(`UID ${cUid} `))).toBe(false);
    expect(select.tagged).toMatch(/OK \[READ-WRITE\]/);
    c.close();
  });
});

describe('two sessions and IDLE', () => {
  it('a session sees EXISTS, FETCH FLAGS and EXPUNGE for changes made elsewhere (RFC 9051 §7.5.1)', async () => {
    const a = await loggedIn(t.port);
    const b = await loggedIn(t.port);
    await a.command('CREATE Shared');
    const shared = await mailbox('alice@example.test', 'Shared');
    const select = await a.command('SELECT Shared');
    expect(select.untagged).toContain('* 0 EXISTS');
    const raw = message('from b');
    const appended = await b.command(`APPEND Shared {${Buffer.byteLength(raw)}+}\r\n${raw}`);
    const uid = Number(/APPENDUID \d+ (\d+)/.exec(appended.tagged)![1]);
    // Selected read-write when it arrived: the message is \Recent in a (RFC 3501 §2.3.2).
    expect((await a.command('NOOP')).untagged).toEqual(['* 1 EXISTS', '* 1 RECENT']);

    await t.env.service.change('alice@example.test', { setFlags: { mailboxId: shared.id, uids: [uid], mode: 'add', flags: ['\\Seen', '$Important'], unchangedSince: null } });
    const noop = await a.command('NOOP');
    // A new keyword widens FLAGS first (RFC 9051 §7.3.5).
    expect(noop.untagged[0]).toMatch(/^\* FLAGS \(.*\$Important/);
    expect(noop.untagged.at(-1)).toMatch(new RegExp(`^\\* 1 FETCH \\(UID ${uid} FLAGS \\(\\\\Recent (\\\\Seen \\$Important|\\$Important \\\\Seen)\\)\\)$`));

    await t.env.service.change('alice@example.test', { expunge: { mailboxId: shared.id, uids: [uid], onlyDeleted: false } });
    expect((await a.command('NOOP')).untagged).toEqual(['* 1 EXPUNGE']);
    expect((await a.command('NOOP')).untagged).toEqual([]);
    a.close();
    b.close();
  });

  it('with QRESYNC, expunges elsewhere come as VANISHED and flag updates carry MODSEQ (RFC 7162 §3.2.10, §3.1.3)', async () => {
    await t.env.service.change('alice@example.test', { createMailbox: { name: 'Vanishing', specialUse: null } });
    await t.env.deliver('alice@example.test', message('vanish one'), { mailbox: 'Vanishing' });
    await t.env.deliver('alice@example.test', message('vanish two'), { mailbox: 'Vanishing' });
    const box = await mailbox('alice@example.test', 'Vanishing');
    const [first, second] = (await t.env.store.summaries(box.id)).map((m) => m.uid);
    const c = await loggedIn(t.port);
    await c.command('ENABLE QRESYNC');
    await c.command('SELECT Vanishing');
    await t.env.service.change('alice@example.test', { setFlags: { mailboxId: box.id, uids: [second], mode: 'add', flags: ['\\Answered'], unchangedSince: null } });
    await t.env.service.change('alice@example.test', { expunge: { mailboxId: box.id, uids: [first], onlyDeleted: false } });
    const modseq = (await t.env.store.messagesByUid(box.id, [second]))[0].modseq;
    expect((await c.command('NOOP')).untagged).toEqual([`* VANISHED ${first}`, `* 1 FETCH (UID ${second} FLAGS (\\Answered) MODSEQ (${modseq}))`]);
    c.close();
  });

  it('dispatches the selected-state commands, and holds EXPUNGE back during FETCH by number (RFC 9051 §7.5.1)', async () => {
    await t.env.service.change('alice@example.test', { createMailbox: { name: 'Held', specialUse: null } });
    await t.env.deliver('alice@example.test', message('held one'), { mailbox: 'Held' });
    await t.env.deliver('alice@example.test', message('held two'), { mailbox: 'Held' });
    const a = await loggedIn(t.port);
    const b = await loggedIn(t.port);
    expect((await a.command('SELECT Held')).untagged).toContain('* 2 EXISTS');
    await b.command('SELECT Held');
    expect((await b.command('STORE 1 +FLAGS (\\Deleted)')).tagged).toMatch(/^T\d+ OK /);
    const expunge = await b.command('EXPUNGE');
    expect(expunge.untagged).toContain('* 1 EXPUNGE');
    expect(expunge.tagged).toMatch(/^T\d+ OK /);
    // A still numbers two messages while FETCH runs; the EXPUNGE comes with the next NOOP.
    const fetch = await a.command('FETCH 1:* (FLAGS)');
    expect(fetch.untagged.some((l) => l.includes('EXPUNGE'))).toBe(false);
    expect(fetch.tagged).toMatch(/^T\d+ OK /);
    expect((await a.command('NOOP')).untagged).toContain('* 1 EXPUNGE');
    const uidFetch = await a.command('UID FETCH 1:* (FLAGS)');
    expect(uidFetch.untagged).toHaveLength(1);
    expect(uidFetch.untagged[0]).toMatch(/^\* 1 FETCH \(/);
    a.close();
    b.close();
  });

  it('IDLE reports a delivery through the real pipeline as it happens, and ends on DONE (RFC 2177)', async () => {
    const c = await loggedIn(t.port);
    const select = await c.command('SELECT INBOX');
    const exists = Number(select.untagged.find((l) => l.endsWith(' EXISTS'))!.split(' ')[1]);
    c.send('I1 IDLE\r\n');
    expect(await c.next()).toBe('+ idling');
    expect(await c.quiet(100)).toBe(true);
    await t.env.deliver('alice@example.test', message('while idling'));
    expect(await c.next(5000)).toBe(`* ${exists + 1} EXISTS`);
    expect(await c.next()).toMatch(/^\* [1-9]\d* RECENT$/); // IMAP4rev1: the new message is recent here
    c.send('DONE\r\n');
    expect(await c.next()).toBe('I1 OK IDLE terminated');
    c.close();
  });

  it('CLOSE expunges \\Deleted messages silently, UNSELECT does not (RFC 9051 §6.4.1, RFC 3691)', async () => {
    await t.env.deliver('alice@example.test', message('close one'), { mailbox: 'Trash', flags: ['\\Deleted'] });
    await t.env.deliver('alice@example.test', message('close two'), { mailbox: 'Trash' });
    const c = await loggedIn(t.port);
    await c.command('EXAMINE Trash');
    expect((await c.command('CLOSE')).untagged).toEqual([]);
    expect((await mailbox('alice@example.test', 'Trash')).messages).toBe(2);
    await c.command('SELECT Trash');
    expect((await c.command('UNSELECT')).tagged).toMatch(/^T\d+ OK /);
    expect((await mailbox('alice@example.test', 'Trash')).messages).toBe(2);
    await c.command('SELECT Trash');
    const close = await c.command('CLOSE');
    expect(close.untagged).toEqual([]);
    expect(close.tagged).toMatch(/^T\d+ OK CLOSE completed/);
    expect((await mailbox('alice@example.test', 'Trash')).messages).toBe(1);
    c.close();
  });
});

describe('QUOTA, ENABLE, ID, NAMESPACE', () => {
  it('answers GETQUOTAROOT and GETQUOTA with usage in KiB, refuses SETQUOTA (RFC 9208)', async () => {
    const c = await loggedIn(t.port);
    const usage = await t.env.store.usage('alice@example.test');
    const root = await c.command('GETQUOTAROOT INBOX');
    expect(root.untagged).toEqual(['* QUOTAROOT "INBOX" ""', `* QUOTA "" (STORAGE ${Math.ceil(usage.bytes / 1024)} 10240)`]);
    expect((await c.command('GETQUOTA ""')).untagged).toEqual([`* QUOTA "" (STORAGE ${Math.ceil(usage.bytes / 1024)} 10240)`]);
    expect((await c.command('GETQUOTA "other"')).tagged).toMatch(/^T\d+ NO /);
    expect((await c.command('SETQUOTA "" (STORAGE 1)')).tagged).toMatch(/^T\d+ NO /);
    c.close();
  });

  it('ENABLE reports only what it turned on; ID and NAMESPACE answer (RFC 5161, RFC 2971, RFC 9051 §6.3.10)', async () => {
    const c = await loggedIn(t.port);
    expect((await c.command('ENABLE CONDSTORE X-UNKNOWN')).untagged).toEqual(['* ENABLED CONDSTORE']);
    expect((await c.command('ENABLE CONDSTORE')).untagged).toEqual(['* ENABLED']);
    expect((await c.command('ID ("name" "test")')).untagged).toEqual(['* ID ("name" "Sluice" "vendor" "Sluice")']);
    expect((await c.command('NAMESPACE')).untagged).toEqual(['* NAMESPACE (("" "/")) NIL NIL']);
    await c.command('SELECT INBOX');
    expect((await c.command('ENABLE QRESYNC')).tagged).toMatch(/^T\d+ BAD /);
    c.close();
  });
});
