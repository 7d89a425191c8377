/**
 * A real clamd for the tests (Debian `clamav-daemon`): a temp dir with a clamd.conf listening on
 * a free loopback port and a signature database the test writes itself — the EICAR test
 * signature — since signatures cannot be downloaded here (no freshclam, no network).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server.ts';
import { spawnEngine, waitReady, type EngineProcess } from './engine.ts';

/** The EICAR anti-virus test file (68 bytes): every scanner reports it, it does nothing. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
export const EICAR_SIGNATURE = 'Sluice-Test.EICAR';

const CLAMD = '/usr/sbin/clamd';

export interface RunningClamd {
  /** `127.0.0.1:PORT`, as `scan.clamd` takes it. */
  readonly address: string;
  readonly port: number;
  /** Kill it (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Start it again on the same port and database. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('connect', () => socket.write('zPING\0'));
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(answer.startsWith('PONG')));
  });
}

export async function startClamd(): Promise<RunningClamd> {
  if (!existsSync(CLAMD)) throw new Error(`${CLAMD} not found: install the Debian package clamav-daemon (.ci/run does)`);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-clamd-'));
  const db = join(dir, 'db');
  mkdirSync(db);
  // An extended signature (.ndb, Name:TargetType:Offset:HexSignature): the EICAR bytes anywhere
  // in any file type — also inside decoded MIME parts of a mail message.
  writeFileSync(join(db, 'sluice-test.ndb'), `${EICAR_SIGNATURE}:0:*:${Buffer.from(EICAR).toString('hex')}\n`);
  const port = await freePort();
  const conf = join(dir, 'clamd.conf');
  writeFileSync(
    conf,
    [
      'Foreground yes',
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      `DatabaseDirectory ${db}`,
      `PidFile ${join(dir, 'clamd.pid')}`,
      `TemporaryDirectory ${dir}`,
      // Its own file: clamd locks its log file, so clamds sharing /dev/null refuse to start side by side.
      `LogFile ${join(dir, 'clamd.log')}`,
      'LogVerbose no',
      'StreamMaxLength 60M',
      'MaxThreads 4',
      'SelfCheck 0',
      '',
    ].join('\n'),
  );
  let engine: EngineProcess;
  const launch = async (): Promise<void> => {
    engine = spawnEngine(CLAMD, ['--foreground', `--config-file=${conf}`]);
    await waitReady(engine, 'clamd', () => ping(port), 30_000);
  };
  await launch();
  return {
    address: `127.0.0.1:${port}`,
    port,
    kill: () => engine.kill(),
    restart: launch,
    async stop() {
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
