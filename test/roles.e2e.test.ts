/**
 * `sluice serve --roles` on the embedded default: a bad role list is a usage error; roles apart
 * are refused (the embedded log is one process's), before anything listens or is written; and
 * `--roles ingress,stages,access` is the whole server, as without the flag. The roles in separate
 * processes on Kafka: `roles.e2e.distributed.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { provision, sluice, startSluice, tempDir, waitFor, type RunningSluice } from './harness/server.ts';
import { imapSession, metricSum, pythonSend, scrape } from './harness/inspect.ts';

const USER = 'ann@sluice.test';

describe('sluice serve --roles on the embedded log', () => {
  it('refuses an unknown role with exit code 2 and the roles it knows', async () => {
    const dataDir = tempDir();
    const r = await sluice(['serve', '--roles', 'ingress,smtp'], { dataDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('roles: unknown role "smtp": expected one or more of ingress, stages, access');
    expect(r.stdout).not.toContain('ready');
  });

  it('refuses roles apart (flag or SLUICE_ROLES): the embedded log is one process; says to use Kafka', async () => {
    for (const [args, env] of [
      [['--roles', 'ingress'], {}],
      [['--roles', 'stages'], {}],
      [['--roles', 'access,stages'], {}],
      [[], { SLUICE_ROLES: 'access' }],
    ] as const) {
      const dataDir = tempDir();
      const r = await sluice(['serve', ...args], { dataDir, env: { SLUICE_LISTEN_SMTP: '127.0.0.1:0', SLUICE_LISTEN_HTTP: '127.0.0.1:0', ...env } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^sluice: roles .* without .*: the embedded log \(engines\.log kind embedded\) is one process/);
      expect(r.stderr).toContain('set engines.log to kind kafka');
      expect(r.stdout).toBe('');
      // Refused before anything was opened: no log, no server mark.
      expect(existsSync(join(dataDir, 'log.db'))).toBe(false);
      expect(existsSync(join(dataDir, 'serve.pid'))).toBe(false);
    }
  });

  describe('--roles ingress,stages,access', () => {
    let dataDir: string;
    let server: RunningSluice;

    beforeAll(async () => {
      dataDir = tempDir();
      await provision(dataDir, 'sluice.test', [USER]);
      server = await startSluice({ dataDir, args: ['--roles', 'access, ingress,stages'] });
    }, 120_000);

    afterAll(async () => {
      await server?.stop();
    });

    it('says so on the ready line, with every listener, and marks the data folder served', () => {
      expect(server.roles).toEqual(['ingress', 'stages', 'access']);
      expect(Object.keys(server.listeners)).toEqual(['smtp', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s', 'http']);
      expect(existsSync(join(dataDir, 'serve.pid'))).toBe(true);
    });

    it('receives over SMTP, then serves, searches and changes the message over IMAP', async () => {
      const events = await pythonSend({ port: server.smtpPort, users: USER, count: 2, concurrency: 1, 'per-conn': 2, 'thread-size': 1, size: 800 });
      expect(events.filter((e) => e.fail)).toEqual([]);
      const acks = events.filter((e) => e.ack);
      expect(acks.length).toBe(2);
      await waitFor('indexed', async () => metricSum(await scrape(server.httpPort), 'sluice_stage_records_total', { stage: 'index', outcome: 'ok' }) >= 2, 60_000);
      const session = await imapSession(server.imapPort, USER, [
        'select:INBOX',
        `uidsearch:TEXT uniqword${acks[1].n}x`,
        'store:1:+FLAGS:(\\Deleted)',
        'expunge',
        'select:INBOX',
      ]);
      expect(session.login).toBe('OK');
      const [select, found, stored, expunged, again] = session.steps;
      expect(select).toMatchObject({ typ: 'OK', data: ['2'] });
      expect(found).toMatchObject({ typ: 'OK', data: ['2'] });
      expect(stored.typ).toBe('OK');
      expect(stored.data.join(' ')).toContain('\\Deleted');
      expect(expunged).toMatchObject({ typ: 'OK', data: ['1'] });
      expect(again).toMatchObject({ typ: 'OK', data: ['1'] });
    }, 120_000);
  });
});
