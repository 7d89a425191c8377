/**
 * `data/serve.pid`: which process runs the stages (`sluice serve` with role `stages`, the default)
 * on this data folder. Tools that write to the log (import, dlq replay) use it to know whether a
 * running server will process what they append, or whether they must run the pipeline themselves.
 * It is a mark, not a lock: processes of other roles (ingress, access) do not write it, and
 * nothing stops several of them on one data folder when the engines are distributed.
 */
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const FILE = 'serve.pid';

export function writeServerPid(dataDir: string): void {
  writeFileSync(join(dataDir, FILE), `${process.pid}\n`);
}

export function removeServerPid(dataDir: string): void {
  try {
    if (Number(readFileSync(join(dataDir, FILE), 'utf8')) === process.pid) rmSync(join(dataDir, FILE));
  } catch {
    // already gone
  }
}

/** The pid of a live server on this data folder, or null. */
export function runningServerPid(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, FILE), 'utf8'));
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}
