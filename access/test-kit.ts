/**
 * Test support for the access servers: the real embedded pipeline in-process (embedded log,
 * the inbound topology's stages on the runner, SQLite store and search, tiered blobs, push
 * bus) in a temp dir, and a `LogMailboxService` over it — so IMAP/POP3 tests exercise the same
 * path as `sluice serve`: changes go through `mailbox.commands` and the store stage.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { SqliteMailStore } from '../connectors/store/sqlite.ts';
import { SqliteSearchIndex } from '../connectors/search/sqlite.ts';
import { InProcessPushBus } from '../connectors/push/push.ts';
import type { User } from '../connectors/store/store.ts';
import { openEmbeddedBlobStore } from '../ops/app.ts';
import { hashPassword } from '../ops/password.ts';
import { loadTopologies } from '../topology/loader.ts';
import { stageGroup, TopologyRunner } from '../topology/runner.ts';
import { PROCESSORS } from '../processors/index.ts';
import { schemaType } from '../schemas/registry.ts';
import type { MailReceived } from '../schemas/types.ts';
import { LogMailboxService } from './service.ts';
import { openTestScanResources } from '../processors/test-resources.ts';

const topologyDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'topology');

export interface AccessTestEnv {
  readonly dir: string;
  readonly service: LogMailboxService;
  readonly store: SqliteMailStore;
  readonly search: SqliteSearchIndex;
  readonly log: EmbeddedLog;
  readonly logger: Logger;
  /** Adds the user (and its domain if new) with this password. */
  addUser(address: string, password: string): Promise<User>;
  /** Delivers through the whole receiving flow; resolves once stored and indexed. */
  deliver(address: string, raw: string | Buffer, options?: { mailbox?: string; flags?: string[]; receivedAt?: number }): Promise<void>;
  /** Many messages to one user in one log append; resolves once all are stored and indexed. */
  deliverMany(address: string, raws: readonly (string | Buffer)[], options?: { mailbox?: string; flags?: string[] }): Promise<void>;
  /** Resolves once every stage has consumed everything produced so far. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

let sequence = 0;

export async function startAccessTestEnv(options: { logger?: Logger } = {}): Promise<AccessTestEnv> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-access-'));
  const logger = options.logger ?? pino({ level: 'silent' });
  const log = new EmbeddedLog({ path: path.join(dir, 'log.db'), lingerMs: 0 });
  const blobs = openEmbeddedBlobStore(dir);
  const store = new SqliteMailStore({ path: path.join(dir, 'mail.db') });
  const search = new SqliteSearchIndex({ path: path.join(dir, 'search.db') });
  const push = new InProcessPushBus();
  // The receiving flow only: mailbox access never sends mail (outbound.yaml's stages need SMTP and DKIM resources).
  const topologies = loadTopologies(topologyDir, PROCESSORS).filter((t) => t.name !== 'outbound');
  const scan = openTestScanResources(dir);
  const runner = new TopologyRunner({
    log,
    topologies,
    processors: PROCESSORS,
    resources: { blobs, store, search, push, logger, now: Date.now, scan },
    logger,
    pollTimeoutMs: 50,
    lingerMs: 0,
  });
  await runner.start();
  const service = new LogMailboxService({ log, store, search, blobs, push, logger, timeoutMs: 10_000 });
  const receivedType = schemaType('MailReceived');

  async function settle(): Promise<void> {
    for (;;) {
      let behind = 0;
      for (const topology of topologies) {
        for (const stage of topology.stages) {
          const lag = await log.lag(stageGroup(topology, stage), [stage.from]);
          behind += lag.reduce((sum, p) => sum + (p.end - p.committed), 0);
        }
      }
      if (behind === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  return {
    dir,
    service,
    store,
    search,
    log,
    logger,
    async addUser(address, password) {
      const domain = address.slice(address.lastIndexOf('@') + 1);
      if (!(await store.isLocalDomain(domain))) await store.addDomain(domain);
      return store.addUser(address, await hashPassword(password));
    },
    async deliver(address, raw, deliverOptions = {}) {
      await log.produce([await receivedRecord(address, raw, deliverOptions)]);
      await settle();
    },
    async deliverMany(address, raws, deliverOptions = {}) {
      const records = [];
      for (const raw of raws) records.push(await receivedRecord(address, raw, deliverOptions));
      await log.produce(records);
      await settle();
    },
    settle,
    async close() {
      service.close();
      await runner.stop();
      await log.close();
      await Promise.all([blobs.close(), store.close(), search.close(), scan.close()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };

  async function receivedRecord(
    address: string,
    raw: string | Buffer,
    deliverOptions: { mailbox?: string; flags?: string[]; receivedAt?: number },
  ): Promise<{ topic: string; key: string; value: Buffer }> {
    const bytes = typeof raw === 'string' ? Buffer.from(raw.replace(/\r?\n/g, '\r\n')) : raw;
    const userId = address.toLowerCase();
    const rawBlob = await blobs.put(bytes);
    const received: MailReceived = {
      ingressId: `test-${process.pid}-${Date.now()}-${++sequence}`,
      userId,
      recipient: address,
      mailFrom: 'sender@example.org',
      // Not 'smtp': the spam and virus stages then leave it byte-exact, as the access tests compare bytes.
      source: 'test',
      remoteAddress: '127.0.0.1',
      helo: 'test',
      receivedAt: deliverOptions.receivedAt ?? Date.now(),
      rawBlob,
      size: bytes.length,
      mailbox: deliverOptions.mailbox ?? 'INBOX',
      flags: deliverOptions.flags ?? [],
    };
    return { topic: 'mail.received', key: userId, value: receivedType.toBuffer(received) };
  }
}
