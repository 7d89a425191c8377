/**
 * The Postfix + Dovecot anchor (`../shared/bench/anchor-postfix-dovecot/`): installed by its
 * `setup.sh` only when missing, then started, reset (empty store and queue) and stopped by its
 * scripts. Postfix SMTP 127.0.0.1:2525 → LMTP → Dovecot; IMAP 127.0.0.1:1143.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandExists, run, runDetached } from './proc.ts';

export const ANCHOR_SMTP_PORT = 2525;
export const ANCHOR_IMAP_PORT = 1143;
export const ANCHOR_PIDFILES = ['/var/spool/postfix/pid/master.pid', '/run/dovecot/master.pid'];

function alive(pidFile: string): boolean {
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 0);
    return true;
  } catch {
    return false;
  }
}

export class Anchor {
  private wasRunning = false;

  /** `logFile`: the scripts' output (they start daemons, so it cannot go through a pipe). */
  constructor(
    private readonly sharedDir: string,
    private readonly logFile: string,
  ) {}

  private script(name: string): string {
    return join(this.sharedDir, 'anchor-postfix-dovecot', name);
  }

  private async call(name: string): Promise<void> {
    const code = await runDetached(this.script(name), [], this.logFile);
    if (code !== 0) throw new Error(`${name} failed (exit ${code}); see ${this.logFile}`);
  }

  /** Installs (if postfix or dovecot is missing) and starts both; returns their versions. */
  async up(): Promise<string> {
    if (!commandExists('postfix') || !commandExists('dovecot') || !existsSync('/etc/dovecot/bench-users')) {
      console.log('Postfix/Dovecot missing: running anchor-postfix-dovecot/setup.sh (apt-get, needs root)…');
      await this.call('setup.sh');
    }
    this.wasRunning = ANCHOR_PIDFILES.every(alive);
    await this.call('start.sh');
    await this.call('reset.sh'); // empty mail store and queue
    const pf = await run('postconf', ['-h', 'mail_version']);
    const dc = await run('dovecot', ['--version']);
    return `Postfix ${pf.stdout.trim()}, Dovecot ${dc.stdout.trim()}`;
  }

  /** Stops both, unless they were already running before `up()`. */
  async down(): Promise<void> {
    if (!this.wasRunning) await this.call('stop.sh');
  }
}
