/**
 * The TLS certificate of the listeners (DESIGN.md §4: "a self-signed certificate is made on first
 * start when none is configured"). Kept as `<dir>/tls/key.pem` and `<dir>/tls/cert.pem`, made once
 * with the `openssl` CLI and reused on every later start. Processes that start at once on one data
 * folder (`sluice serve --roles ingress` beside `--roles access`) take turns through a lock file,
 * so one makes the pair and the others read it: never a key of one with a certificate of another.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, chmodSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsCertificate {
  readonly key: string;
  readonly cert: string;
  /** True when this call made the certificate. */
  readonly created: boolean;
}

/** A DNS name we are willing to put on an openssl command line and into a certificate. */
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** A lock older than this, or held by a process that is gone, is taken over (openssl's own timeout is 60 s). */
const STALE_LOCK_MS = 120_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Takes `path` (created exclusively, holding our pid); waits while a live process holds it. False: `done()` came true meanwhile. */
function lock(path: string, done: () => boolean): boolean {
  for (;;) {
    if (done()) return false;
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (lockIsStale(path)) rmSync(path, { force: true });
    else sleepSync(100);
  }
}

function lockIsStale(path: string): boolean {
  try {
    if (Date.now() - statSync(path).mtimeMs > STALE_LOCK_MS) return true;
    const pid = Number(readFileSync(path, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false; // being written
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export function ensureTlsCertificate(dir: string, hostname: string): TlsCertificate {
  const tlsDir = join(dir, 'tls');
  const keyPath = join(tlsDir, 'key.pem');
  const certPath = join(tlsDir, 'cert.pem');
  const made = () => existsSync(keyPath) && existsSync(certPath);
  const existing = (): TlsCertificate => ({ key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), created: false });
  if (made()) return existing();
  if (!HOSTNAME.test(hostname)) throw new Error(`ensureTlsCertificate: not a host name: ${JSON.stringify(hostname)}`);
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  const lockPath = join(tlsDir, 'making.lock');
  if (!lock(lockPath, made)) return existing();
  try {
    if (made()) return existing();
    return makeCertificate(hostname, keyPath, certPath);
  } finally {
    rmSync(lockPath, { force: true });
  }
}

function makeCertificate(hostname: string, keyPath: string, certPath: string): TlsCertificate {
  // Write beside the final names, then rename: a crash half-way never leaves a key without its
  // certificate (or a truncated file) that a later start would take as valid.
  const tmpKey = `${keyPath}.${process.pid}.tmp`;
  const tmpCert = `${certPath}.${process.pid}.tmp`;
  const altNames = [`DNS:${hostname}`, ...(hostname === 'localhost' ? [] : ['DNS:localhost']), 'IP:127.0.0.1'];
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650',
        '-subj', `/CN=${hostname}`,
        '-addext', `subjectAltName=${altNames.join(',')}`,
        '-keyout', tmpKey, '-out', tmpCert,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 },
    );
    chmodSync(tmpKey, 0o600);
    renameSync(tmpKey, keyPath);
    renameSync(tmpCert, certPath);
  } catch (err) {
    rmSync(tmpKey, { force: true });
    rmSync(tmpCert, { force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`could not make a self-signed TLS certificate with openssl: ${stderr || (err as Error).message}`, { cause: err });
  }
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), created: true };
}
