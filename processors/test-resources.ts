/**
 * Test support for the stage tests: real Resources over a temp dir (file
 * blob store, SQLite store and search, in-process push) and InputRecord builders.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { FsBlobStore } from '../connectors/blob/fs.ts';
import { SqliteMailStore } from '../connectors/store/sqlite.ts';
import { SqliteSearchIndex } from '../connectors/search/sqlite.ts';
import { InProcessPushBus } from '../connectors/push/push.ts';
import { Resolver } from 'node:dns/promises';
import { SqliteQuarantine } from '../connectors/scan/sqlite-quarantine.ts';
import { SqliteBayesStore } from '../connectors/scan/sqlite-bayes.ts';
import { DEFAULT_SPAM_POLICY, type ScanResources } from '../connectors/scan/resources.ts';
import type { InputRecord, Resources } from './processor.ts';
import type { MailReceived } from '../schemas/types.ts';

export interface TestResources extends Resources {
  readonly dir: string;
  close(): Promise<void>;
}

/**
 * Scan resources with no scanners (mail is marked not scanned), a quarantine and a Bayes model
 * under `dir`, and DNS asked of a loopback port where nothing listens (answers at once, never
 * the internet). Tests of the scan stages give their own.
 */
export function openTestScanResources(dir: string): ScanResources & { close(): Promise<void> } {
  const quarantine = new SqliteQuarantine({ path: path.join(dir, 'quarantine.db') });
  const bayes = new SqliteBayesStore({ path: path.join(dir, 'bayes.db') });
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers(['127.0.0.1:1']);
  return {
    virus: null,
    spam: null,
    quarantine,
    bayes,
    resolver: (name, rrtype) => resolver.resolve(name, rrtype),
    hostname: 'mx.sluice.test',
    spamPolicy: DEFAULT_SPAM_POLICY,
    async close() {
      await Promise.all([quarantine.close(), bayes.close()]);
    },
  };
}

export function openTestResources(): TestResources {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
  const blobs = new FsBlobStore({ dir: path.join(dir, 'blobs') });
  const store = new SqliteMailStore({ path: path.join(dir, 'store.db') });
  const search = new SqliteSearchIndex({ path: path.join(dir, 'search.db') });
  const scan = openTestScanResources(dir);
  return {
    dir,
    blobs,
    store,
    search,
    push: new InProcessPushBus(),
    logger: pino({ level: 'silent' }),
    now: () => 1_736_157_600_000,
    scan,
    async close() {
      await Promise.all([blobs.close(), store.close(), search.close(), scan.close()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function receivedFor(rawBlob: string, size: number, ingressId = 'ing-1', recipient = 'Bob@Example.test'): MailReceived {
  return {
    ingressId,
    userId: recipient.toLowerCase(),
    recipient,
    mailFrom: 'alice@example.org',
    source: 'smtp',
    remoteAddress: '127.0.0.1',
    helo: 'mx.example.org',
    receivedAt: 1_736_157_601_000,
    rawBlob,
    size,
    mailbox: 'INBOX',
    flags: [],
  };
}

export function inputRecord<T>(topic: string, key: string, value: T, offset = 0): InputRecord<T> {
  return { topic, partition: 0, offset, key, value, headers: {}, timestamp: 1_736_157_601_000 };
}
