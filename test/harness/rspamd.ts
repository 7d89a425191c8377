/**
 * A real rspamd for the tests (Debian `rspamd`): its stock rules from /etc/rspamd, with a temp
 * LOCAL_CONFDIR whose override.d binds the scanner worker to a free loopback port, turns the
 * controller and proxy off, logs to the console, and sends DNS to a loopback port (no network:
 * lookups fail fast). Start-up takes about 10 s on the project's machine, so tests start one per file.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server.ts';
import { spawnEngine, waitReady } from './engine.ts';

const RSPAMD = '/usr/bin/rspamd';

export interface RunningRspamd {
  /** `http://127.0.0.1:PORT`, as `scan.rspamd` takes it. */
  readonly url: string;
  /** Milliseconds from spawn until /ping answered. */
  readonly startMs: number;
  stop(): Promise<void>;
}

export async function startRspamd(options: { dnsServer?: string } = {}): Promise<RunningRspamd> {
  if (!existsSync(RSPAMD)) throw new Error(`${RSPAMD} not found: install the Debian package rspamd (.ci/run does)`);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-rspamd-'));
  for (const sub of ['override.d', 'db', 'run', 'log']) mkdirSync(join(dir, sub));
  const port = await freePort();
  const write = (name: string, text: string): void => writeFileSync(join(dir, 'override.d', name), text);
  write('worker-normal.inc', `bind_socket = "127.0.0.1:${port}";\n`);
  write('worker-controller.inc', 'enabled = false;\n');
  write('worker-proxy.inc', 'enabled = false;\n');
  write('logging.inc', 'type = "console";\nlevel = "error";\n');
  // Port 1 on loopback refuses at once; a test may give its own resolver instead.
  write('options.inc', `dns { nameserver = ["${options.dnsServer ?? '127.0.0.1:1'}"]; timeout = 0.2s; retransmits = 1; }\n`);
  const started = Date.now();
  const engine = spawnEngine(RSPAMD, [
    '-f', '-i', '-u', 'root', '-g', 'root',
    '-c', '/etc/rspamd/rspamd.conf',
    '--var', `LOCAL_CONFDIR=${dir}`,
    '--var', `DBDIR=${join(dir, 'db')}`,
    '--var', `RUNDIR=${join(dir, 'run')}`,
    '--var', `LOGDIR=${join(dir, 'log')}`,
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(engine, 'rspamd', async () => (await fetch(`${url}/ping`)).ok, 60_000);
  return {
    url,
    startMs: Date.now() - started,
    async stop() {
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
