import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeServerPid, runningServerPid, writeServerPid } from './server-lock.ts';

/** Another live process, standing for a second `stages` process on the same folder. */
function otherProcess(): { pid: number; end(): Promise<void> } {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    end: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('serve.pid: the mark of the stages processes on a data folder', () => {
  it('one process: marked while it runs, unmarked when it stops', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
    expect(runningServerPid(dir)).toBeNull();
    writeServerPid(dir);
    expect(runningServerPid(dir)).toBe(process.pid);
    expect(Number(readFileSync(join(dir, 'serve.pid'), 'utf8'))).toBe(process.pid);
    removeServerPid(dir);
    expect(existsSync(join(dir, 'serve.pid'))).toBe(false);
    expect(runningServerPid(dir)).toBeNull();
  });

  it('two processes: the mark stays while the other one lives, whichever stops first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
    const other = otherProcess();
    try {
      appendFileSync(join(dir, 'serve.pid'), `${other.pid}\n`); // the other started first
      writeServerPid(dir);
      removeServerPid(dir); // this one stops first
      expect(runningServerPid(dir)).toBe(other.pid);
      writeServerPid(dir);
      await other.end(); // the other dies without taking its line away (SIGKILL)
      expect(runningServerPid(dir)).toBe(process.pid);
      removeServerPid(dir);
      expect(runningServerPid(dir)).toBeNull();
      expect(existsSync(join(dir, 'serve.pid'))).toBe(false);
    } finally {
      await other.end();
    }
  });

  it('a line of a dead process alone is no running server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
    const dead = otherProcess();
    await dead.end();
    appendFileSync(join(dir, 'serve.pid'), `${dead.pid}\n`);
    expect(runningServerPid(dir)).toBeNull();
  });
});
