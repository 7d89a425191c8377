/**
 * The `sluice` command line as a user runs it: usage errors, topology tools, and moving a
 * mailbox in and out (import runs the pipeline itself when no server is running).
 */
import { describe, it, expect } from 'vitest';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { provision, sluice, tempDir } from './harness/server.ts';
import { SqliteMailStore } from '../connectors/store/sqlite.ts';
import { verifyPassword } from '../ops/password.ts';

describe('sluice CLI', () => {
  it('answers usage errors with exit code 2 and a usage line', async () => {
    const dataDir = tempDir();
    const unknown = await sluice(['frobnicate'], { dataDir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const noStdin = await sluice(['user', 'add', 'a@b.test'], { dataDir });
    expect(noStdin.code).toBe(2);
    expect(noStdin.stderr).toContain('--password-stdin');
    const badDomain = await sluice(['domain', 'add', 'not a domain'], { dataDir });
    expect(badDomain.code).toBe(2);
    const badEnv = await sluice(['domain', 'list'], { dataDir, env: { SLUICE_LISTEN_SMTP: 'nowhere' } });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('listen.smtp: expected host:port');
  });

  it('domain add makes the DKIM key and prints its TXT record; a rerun and domain dkim show the same one', async () => {
    const dataDir = tempDir();
    const added = await sluice(['domain', 'add', 'Mail.Example.test'], { dataDir });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^domain mail\.example\.test added\nmade a DKIM key for mail\.example\.test \(selector sluice\); publish this TXT record:\n {2}name: {2}sluice\._domainkey\.mail\.example\.test\n {2}value: v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+\n/);
    const value = /value: (.*)/.exec(added.stdout)![1];
    expect(existsSync(join(dataDir, 'dkim', 'mail.example.test.sluice.pem'))).toBe(true);
    const again = await sluice(['domain', 'add', 'mail.example.test'], { dataDir });
    expect(again.stdout).toContain('DKIM key for mail.example.test (selector sluice)');
    expect(again.stdout).toContain(`value: ${value}\n`);
    const shown = await sluice(['domain', 'dkim', 'mail.example.test'], { dataDir });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`value: ${value}\n`);
    const foreign = await sluice(['domain', 'dkim', 'other.test'], { dataDir });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain('not a local domain');
  });

  it('refuses a user of a domain that is not local, and a second user of the same address', async () => {
    const dataDir = tempDir();
    const foreign = await sluice(['user', 'add', 'x@elsewhere.test', '--password-stdin'], { dataDir, stdin: 'pw\n' });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain('not local');
    await provision(dataDir, 'sluice.test', ['one@sluice.test']);
    const again = await sluice(['user', 'add', 'ONE@sluice.test', '--password-stdin'], { dataDir, stdin: 'pw\n' });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
  });

  it('sets a user’s POP3 keep-mail setting and password (user set)', async () => {
    const dataDir = tempDir();
    await provision(dataDir, 'sluice.test', ['pop@sluice.test']);
    const keep = await sluice(['user', 'set', 'POP@sluice.test', '--pop3-keep', 'yes'], { dataDir });
    expect(keep.code, keep.stderr).toBe(0);
    expect(keep.stdout).toContain('keeps mail');
    expect((await sluice(['user', 'list'], { dataDir })).stdout).toContain('pop@sluice.test  (pop3: keep mail)');
    const bad = await sluice(['user', 'set', 'pop@sluice.test', '--pop3-keep', 'maybe'], { dataDir });
    expect(bad.code).toBe(2);
    const unknown = await sluice(['user', 'set', 'nobody@sluice.test', '--pop3-keep', 'no'], { dataDir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('does not exist');
    const both = await sluice(['user', 'set', 'pop@sluice.test', '--pop3-keep', 'no', '--password-stdin'], { dataDir, stdin: 'new-secret\n' });
    expect(both.code, both.stderr).toBe(0);
    const store = new SqliteMailStore({ path: join(dataDir, 'mail.db') });
    try {
      const user = await store.user('pop@sluice.test');
      expect(await verifyPassword('new-secret', user!.passwordHash)).toBe(true);
      expect(user!.pop3KeepMail).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('checks, describes and draws the topology', async () => {
    const dataDir = tempDir();
    const check = await sluice(['topology', 'check'], { dataDir });
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/inbound: \d+ topics, 8 stages/);
    const describe = await sluice(['topology', 'describe'], { dataDir });
    expect(describe.stdout).toContain('split-attachments');
    const mermaid = await sluice(['topology', 'graph', '--format', 'mermaid'], { dataDir });
    expect(mermaid.stdout).toMatch(/^flowchart LR/m);
    const dot = await sluice(['topology', 'graph', '--format', 'dot'], { dataDir });
    expect(dot.stdout).toMatch(/^digraph/m);
  });

  it('imports an mbox with no server running, stores it, and exports the same messages', async () => {
    const dataDir = tempDir();
    await provision(dataDir, 'sluice.test', ['mover@sluice.test']);
    const mbox = join(dataDir, 'old.mbox');
    const message = (n: number) =>
      `From sender@old.test Mon Jan  5 10:00:00 2026\nFrom: Sender <sender@old.test>\nTo: mover@sluice.test\nSubject: old mail ${n}\nMessage-ID: <old${n}@old.test>\nDate: Mon, 5 Jan 2026 10:00:0${n} +0000\n\nbody ${n}\n>From the archive\n\n`;
    writeFileSync(mbox, [1, 2, 3].map(message).join(''));
    const imported = await sluice(['mailbox', 'import', 'mover@sluice.test', mbox], { dataDir });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/imported 3 messages/);
    expect(imported.stdout).toContain('stored.');

    const again = await sluice(['mailbox', 'import', 'mover@sluice.test', mbox], { dataDir });
    expect(again.stdout).toMatch(/imported 0 messages .*3 duplicates skipped/);

    const out = join(dataDir, 'export');
    const exported = await sluice(['mailbox', 'export', 'mover@sluice.test', '--format', 'mbox', '--out', out], { dataDir });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/exported 3 messages/);
    expect(existsSync(join(out, 'INBOX.mbox'))).toBe(true);
    const text = readFileSync(join(out, 'INBOX.mbox'), 'utf8');
    for (const n of [1, 2, 3]) expect(text).toContain(`Message-ID: <old${n}@old.test>`);
    expect(text).toContain('\n>From the archive\n');
  });
});
