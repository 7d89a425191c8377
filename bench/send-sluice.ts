/**
 * Sluice under the sending bench: a fresh data folder with the domain bench.test (made by
 * `sluice domain add`, so it has its DKIM key) and the sender users, a loopback DNS server
 * that gives every dN.remote.test the MX mx.remote.test → 127.0.0.77 (the remote Postfix),
 * `sluice serve` as a child with `outbound.port` 2525 and the submission rate limits off (or, with
 * route `relay`, `outbound.relay` 127.0.0.77:2525 and no DNS).
 * Deliveries are read from the log, as a second process may (`mail.outbound.results`).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { schemaType } from '../schemas/registry.ts';
import { startDns, type DnsZone, type RunningDns } from '../test/harness/dns.ts';
import { provision, startSluice, tempDir, type RunningSluice } from '../test/harness/server.ts';
import { REMOTE, remoteDomain } from './send-postfix.ts';
import type { Delivery } from './send-report.ts';

const RESULTS = 'mail.outbound.results';

/** The fields of a DeliveryResult the bench reads. */
interface Result {
  readonly ingressId: string;
  readonly status: string;
  readonly at: number;
  readonly response: string;
}

export interface SendSluiceOptions {
  readonly users: readonly string[];
  readonly password: string;
  readonly domains: number;
  /** `mx` (default): MX lookups through the loopback DNS server; `relay`: `outbound.relay` to the remote, no DNS (as Postfix's transport map). */
  readonly route?: 'mx' | 'relay';
  readonly keep?: boolean;
}

export class SendSluice {
  private log: EmbeddedLog | undefined;
  private readonly read = new Map<number, number>();
  private readonly outcomes = new Map<string, Delivery>();

  private constructor(
    private readonly server: RunningSluice,
    private readonly dns: RunningDns,
    readonly dataDir: string,
    private readonly keep: boolean,
  ) {}

  static async start(options: SendSluiceOptions): Promise<SendSluice> {
    const dataDir = tempDir('sluice-bench-send-data-');
    await provision(dataDir, 'bench.test', options.users, options.password);
    const zone: Record<string, DnsZone[string]> = { 'mx.remote.test': { A: [REMOTE.host] } };
    for (let d = 1; d <= options.domains; d++) zone[remoteDomain(d)] = { MX: [{ exchange: 'mx.remote.test', priority: 10 }] };
    const dns = await startDns(zone);
    const server = await startSluice({
      dataDir,
      env: {
        SLUICE_DNS_SERVERS: dns.address,
        SLUICE_OUTBOUND_PORT: String(REMOTE.port),
        SLUICE_HOSTNAME: 'sluice.bench.test',
        SLUICE_SUBMISSION_RATE_LIMIT_MESSAGES: '0',
        SLUICE_SUBMISSION_RATE_LIMIT_RECIPIENTS: '0',
        ...(options.route === 'relay' ? { SLUICE_OUTBOUND_RELAY: `${REMOTE.host}:${REMOTE.port}` } : {}),
      },
    });
    return new SendSluice(server, dns, dataDir, options.keep ?? false);
  }

  /** Delivery outcomes by ingress id (the id Sluice's 250 names), read from the log so far. */
  async deliveries(): Promise<ReadonlyMap<string, Delivery>> {
    this.log ??= new EmbeddedLog({ path: join(this.dataDir, 'log.db') });
    const type = schemaType('DeliveryResult');
    const ends = await this.log.endOffsets(RESULTS);
    for (let partition = 0; partition < ends.length; partition++) {
      for (let offset = this.read.get(partition) ?? 0; offset < ends[partition]; ) {
        const records = await this.log.read(RESULTS, partition, offset, 1000);
        if (!records.length) break;
        for (const r of records) {
          const v = type.fromBuffer(r.value) as Result;
          // A notice ("delayed") is no outcome; a later result replaces a deferral.
          if (v.status !== 'delayed') this.outcomes.set(v.ingressId, { status: v.status, at: v.at / 1000, response: v.response });
        }
        offset = records[records.length - 1].offset + 1;
        this.read.set(partition, offset);
      }
    }
    return this.outcomes;
  }

  /**
   * Seconds until the search index holds `documents` documents (the Sent copies: the index writer
   * runs at a low priority and may trail the deliveries), polled every 50 ms; undefined if it has
   * fewer after `limitS`.
   */
  async indexCaughtUpS(documents: number, limitS = 120): Promise<number | undefined> {
    const db = new Database(join(this.dataDir, 'search.db'), { readonly: true, fileMustExist: true });
    try {
      const count = db.prepare<[], number>('SELECT count(*) FROM docs').pluck();
      const t0 = performance.now();
      while (count.get()! < documents) {
        if (performance.now() - t0 > limitS * 1000) return undefined;
        await new Promise((r) => setTimeout(r, 50));
      }
      return (performance.now() - t0) / 1000;
    } finally {
      db.close();
    }
  }

  target() {
    return {
      server: 'sluice' as const,
      host: '127.0.0.1',
      port: this.server.submissionPort,
      pid: () => this.server.child.pid!,
      mark: () => undefined,
      deliveries: () => this.deliveries(),
      indexCaughtUpS: (documents: number) => this.indexCaughtUpS(documents),
    };
  }

  async stop(): Promise<void> {
    await this.log?.close();
    await this.server.stop();
    await this.dns.close();
    if (!this.keep) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
