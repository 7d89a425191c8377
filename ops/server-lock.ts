/**
 * `data/serve.pid`: which processes run the stages (`sluice serve` with role `stages`, the
 * default) on this data folder, one pid a line. Tools that write to the log (import, dlq replay)
 * use it to know whether a running server will process what they append, or whether they must
 * run the pipeline themselves (on Kafka that would join the live stages' consumer groups).
 * It is a mark, not a lock: processes of other roles (ingress, access) do not write it, and
 * several `stages` processes may share one data folder when the engines are distributed — each
 * adds its own line on start and takes only its own line away on stop, so the mark stays while
 * any of them lives; lines of processes that died without stopping (SIGKILL) are ignored and
 * dropped at the next stop.
 */
import { appendFileSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE = 'serve.pid';

/** Adds this process's line (an append: two processes starting at once both keep theirs). */
export function writeServerPid(dataDir: string): void {
  appendFileSync(join(dataDir, FILE), `${process.pid}\n`);
}

/** Takes this process's line away (and those of dead processes); the file goes with the last line. */
export function removeServerPid(dataDir: string): void {
  const file = join(dataDir, FILE);
  const others = markedPids(dataDir).filter((pid) => pid !== process.pid && alive(pid));
  try {
    if (others.length === 0) {
      rmSync(file, { force: true });
      return;
    }
    const next = `${file}.${process.pid}`;
    writeFileSync(next, others.map((pid) => `${pid}\n`).join(''));
    renameSync(next, file);
  } catch {
    // the folder is gone: nothing to mark
  }
}

/** The pid of a live stages process on this data folder (the first marked), or null. */
export function runningServerPid(dataDir: string): number | null {
  return markedPids(dataDir).find(alive) ?? null;
}

function markedPids(dataDir: string): number[] {
  let text: string;
  try {
    text = readFileSync(join(dataDir, FILE), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').map(Number).filter((pid) => Number.isInteger(pid) && pid > 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, another user's
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
