/**
 * Test support for the mailbox tests: the real embedded connectors in a temp directory, a
 * reader of `mail.received`, and `storeReceived`, which applies import records to the store
 * the way the pipeline's store stage does (whole raw message as the skeleton, no split parts)
 * until the tests can run the real pipeline.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { FsBlobStore } from '../../connectors/blob/fs.ts';
import { EmbeddedLog } from '../../connectors/log/embedded.ts';
import type { Address, DeliverRequest } from '../../connectors/store/store.ts';
import { SqliteMailStore } from '../../connectors/store/sqlite.ts';
import { schemaType } from '../../schemas/registry.ts';
import type { MailReceived } from '../../schemas/types.ts';
import { headerFields, scanHeaders } from './headers.ts';
import { importMessageKey, RECEIVED_TOPIC, type ImportDeps } from './import.ts';

export interface TestEnv extends ImportDeps {
  readonly dir: string;
  readonly log: EmbeddedLog;
  readonly blobs: FsBlobStore;
  readonly store: SqliteMailStore;
  close(): Promise<void>;
}

export async function openTestEnv(users: readonly string[] = ['alice@example.test']): Promise<TestEnv> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
  const log = new EmbeddedLog({ path: path.join(dir, 'log.db') });
  const blobs = new FsBlobStore({ dir: path.join(dir, 'blobs') });
  const store = new SqliteMailStore({ path: path.join(dir, 'store.db') });
  await log.ensureTopics([{ name: RECEIVED_TOPIC, partitions: 3 }]);
  const domains = new Set(users.map((u) => u.split('@')[1]));
  for (const d of domains) await store.addDomain(d);
  for (const u of users) await store.addUser(u, 'x');
  const type = schemaType('MailReceived');
  return {
    dir,
    log,
    blobs,
    store,
    logger: pino({ level: 'silent' }),
    encode: (v: MailReceived) => type.toBuffer(v),
    async close() {
      await log.close();
      await blobs.close();
      await store.close();
    },
  };
}

export interface ReceivedRecord {
  readonly key: string;
  readonly partition: number;
  readonly value: MailReceived;
}

/** Every record on `mail.received`, partition by partition in offset order. */
export async function receivedRecords(env: TestEnv): Promise<ReceivedRecord[]> {
  const type = schemaType('MailReceived');
  const out: ReceivedRecord[] = [];
  const ends = await env.log.endOffsets(RECEIVED_TOPIC);
  for (const [partition, end] of ends.entries()) {
    for (const r of await env.log.read(RECEIVED_TOPIC, partition, 0, end)) {
      out.push({ key: r.key, partition, value: type.fromBuffer(r.value) as MailReceived });
    }
  }
  return out;
}

function addresses(value: string | undefined): Address[] {
  if (!value) return [];
  return value.split(',').map((part) => {
    const m = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(part);
    return m ? { name: m[1].replace(/^"|"$/g, ''), address: m[2] } : { name: '', address: part.trim() };
  });
}

/** The store stage's effect for these records: one idempotent `deliver` per record. */
export async function storeReceived(env: TestEnv, records: readonly MailReceived[]): Promise<number> {
  const requests: DeliverRequest[] = [];
  for (const r of records) {
    const bytes = await env.blobs.get(r.rawBlob);
    const scan = scanHeaders(bytes);
    const fields = headerFields(bytes, ['subject', 'from', 'to', 'cc']);
    requests.push({
      messageKey: importMessageKey(r.ingressId, r.recipient),
      userId: r.userId,
      mailbox: r.mailbox,
      flags: r.flags,
      receivedAt: r.receivedAt,
      size: r.size,
      body: { skeletonBlob: r.rawBlob, parts: [] },
      messageId: scan.messageId,
      inReplyTo: null,
      references: [],
      subject: fields.get('subject') ?? '',
      from: addresses(fields.get('from')),
      to: addresses(fields.get('to')),
      cc: addresses(fields.get('cc')),
      date: scan.date,
    });
  }
  const results = await env.store.deliver(requests);
  return results.filter((r) => r.created).length;
}
