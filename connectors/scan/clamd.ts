/**
 * ClamAV's clamd as a `VirusScanner`, through the `clamscan` package: each scan streams the
 * bytes over INSTREAM to clamd at `host:port` or a unix socket path. No local binary is used
 * and no fallback to one: clamd unreachable is `ScannerUnavailableError`.
 */
import { createConnection } from 'node:net';
import { Readable } from 'node:stream';
import NodeClam from 'clamscan';
import { ScannerUnavailableError, isConnectionError, type VirusScanner, type VirusVerdict } from './scanner.ts';
import { checkHealth, HEALTH_TIMEOUT_MS, type EngineHealth } from '../health.ts';

export interface ClamdOptions {
  /** `host:port`, or an absolute path of clamd's unix socket. */
  readonly address: string;
  /** Per-connection timeout, ms. */
  readonly timeoutMs?: number;
}

interface ClamScanResult {
  isInfected: boolean | null;
  viruses: string[];
  resultString?: string;
}
interface ClamInstance {
  scanStream(stream: Readable): Promise<ClamScanResult>;
}

export type ClamdAddress = { socket: string } | { host: string; port: number };

export function parseClamdAddress(address: string): ClamdAddress {
  if (address.startsWith('/')) return { socket: address };
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s/]+):(\d{1,5})$/.exec(address);
  if (!m) throw new Error(`scan.clamd: expected host:port or a socket path, got ${JSON.stringify(address)}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export class ClamdScanner implements VirusScanner {
  readonly name: string;
  private readonly clam: Promise<ClamInstance>;
  private readonly where: ClamdAddress;

  constructor(options: ClamdOptions) {
    const where = parseClamdAddress(options.address);
    this.where = where;
    this.name = `clamd ${options.address}`;
    // bypassTest: no connection at start — clamd may come up after us; each scan connects anew.
    this.clam = new NodeClam().init({
      removeInfected: false,
      quarantineInfected: false,
      scanLog: null,
      debugMode: false,
      preference: 'clamdscan',
      clamscan: { active: false, path: null },
      clamdscan: { ...where, path: null, active: true, localFallback: false, bypassTest: true, timeout: options.timeoutMs ?? 60_000 },
    }) as Promise<ClamInstance>;
  }

  async scan(bytes: Buffer): Promise<VirusVerdict> {
    const clam = await this.clam;
    let result: ClamScanResult;
    try {
      result = await clam.scanStream(Readable.from([bytes]));
    } catch (err) {
      if (isConnectionError(err) || isConnectionError((err as { data?: { err?: unknown } }).data?.err)) {
        throw new ScannerUnavailableError(`${this.name} unreachable: ${(err as Error).message}`, { cause: err });
      }
      // "Scan aborted": clamd closed the stream before the end (it stopped, or a limit hit).
      if (/Scan aborted/i.test((err as Error).message) && !/limit/i.test((err as Error).message)) {
        throw new ScannerUnavailableError(`${this.name}: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
    // isInfected null: clamd gave no verdict (e.g. COMMAND READ TIMED OUT) — never read as clean.
    if (result.isInfected === null) throw new ScannerUnavailableError(`${this.name}: no verdict (${result.resultString ?? 'no answer'})`);
    return { infected: result.isInfected, viruses: result.viruses };
  }

  /** clamd's `zPING` → `PONG` (clamd(8): commands prefixed with z end with a NUL byte). */
  health(): Promise<EngineHealth> {
    return checkHealth('clamd', () => clamdPing(this.where, HEALTH_TIMEOUT_MS).then(() => undefined));
  }

  async close(): Promise<void> {
    // Nothing held open between scans.
  }
}

/** One `zPING` on a connection of its own; resolves on `PONG`. */
function clamdPing(where: ClamdAddress, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = 'socket' in where ? createConnection(where.socket) : createConnection(where.port, where.host);
    let reply = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('connect', () => socket.write('zPING\0'));
    socket.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      if (!reply.includes('\0')) return;
      socket.end();
      const answer = reply.slice(0, reply.indexOf('\0'));
      if (answer === 'PONG') resolve();
      else reject(new Error(`unexpected answer to PING: ${answer.slice(0, 80)}`));
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('clamd closed the connection without PONG')));
  });
}
