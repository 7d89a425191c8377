/**
 * The TLS certificate of the listeners (DESIGN.md §4: "a self-signed certificate is made on first
 * start when none is configured"). Kept as `<dir>/tls/key.pem` and `<dir>/tls/cert.pem`, made once
 * with the `openssl` CLI and reused on every later start.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsCertificate {
  readonly key: string;
  readonly cert: string;
  /** True when this call made the certificate. */
  readonly created: boolean;
}

/** A DNS name we are willing to put on an openssl command line and into a certificate. */
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

export function ensureTlsCertificate(dir: string, hostname: string): TlsCertificate {
  const tlsDir = join(dir, 'tls');
  const keyPath = join(tlsDir, 'key.pem');
  const certPath = join(tlsDir, 'cert.pem');
  if (existsSync(keyPath) && existsSync(certPath)) {
    return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), created: false };
  }
  if (!HOSTNAME.test(hostname)) throw new Error(`ensureTlsCertificate: not a host name: ${JSON.stringify(hostname)}`);
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
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
