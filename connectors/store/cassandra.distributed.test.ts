/**
 * The `MailStore` contract (the same suite as `sqlite.test.ts`) on a real Cassandra: the node
 * `ops/stack up` starts (127.0.0.1:19042, or SLUICE_CASSANDRA_CONTACT_POINTS). A missing node
 * fails these tests; it never skips them. Each run works in a keyspace of its own, dropped at
 * the end; each test in fresh domains and users.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { afterAll, describe, expect, it } from 'vitest';
import { runMailStoreConformance } from './conformance.ts';
import { CassandraMailStore } from './cassandra.ts';
import type { CassandraMailStoreOptions } from './cassandra.ts';

const contactPoints = (process.env.SLUICE_CASSANDRA_CONTACT_POINTS ?? '127.0.0.1:19042').split(',');
const options: CassandraMailStoreOptions = {
  contactPoints,
  localDataCenter: 'datacenter1',
  keyspace: `sluice_test_${randomBytes(4).toString('hex')}`,
  replication: { datacenter1: 1 },
};

afterAll(async () => {
  const client = new cassandra.Client({ contactPoints, localDataCenter: 'datacenter1' });
  try {
    await client.execute(`DROP KEYSPACE IF EXISTS ${options.keyspace}`);
  } finally {
    await client.shutdown();
  }
});

runMailStoreConformance('cassandra', async () => {
  const opened = [await CassandraMailStore.open(options)];
  return {
    store: opened[0],
    reopen: async () => {
      const store = await CassandraMailStore.open(options);
      opened.push(store);
      return store;
    },
    cleanup: async () => {
      for (const store of opened) await store.close();
    },
  };
});

describe('CassandraMailStore specifics', () => {
  it('runs on the node ops/engines/cassandra.sh started, which reports itself healthy', () => {
    const status = execFileSync('bash', ['ops/engines/cassandra.sh', 'status'], { encoding: 'utf8' });
    expect(status).toMatch(/^cassandra: up \(pid \d+, CQL 127\.0\.0\.1:19042 answers\)/);
  });

  it('creates its keyspace with NetworkTopologyStrategy and the seed’s tables', async () => {
    const store = await CassandraMailStore.open(options);
    const client = new cassandra.Client({ contactPoints, localDataCenter: 'datacenter1' });
    try {
      const ks = await client.execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [options.keyspace]);
      expect(ks.first().get('replication')).toMatchObject({ class: 'org.apache.cassandra.locator.NetworkTopologyStrategy', datacenter1: '1' });
      const tables = await client.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [options.keyspace]);
      expect(tables.rows.map((r) => String(r.get('table_name')))).toEqual(
        expect.arrayContaining(['mailboxes', 'read_messages', 'unread_messages', 'message_uids', 'message_keys']),
      );
      const key = await client.execute(
        "SELECT column_name, kind FROM system_schema.columns WHERE keyspace_name = ? AND table_name = 'unread_messages'",
        [options.keyspace],
      );
      const kinds = Object.fromEntries(key.rows.map((r) => [String(r.get('column_name')), String(r.get('kind'))]));
      expect(kinds).toMatchObject({ user_id: 'partition_key', mailbox_id: 'clustering', received_at: 'clustering', uid: 'clustering' });
    } finally {
      await client.shutdown();
      await store.close();
    }
  });

  it('applies a change larger than one batch whole (renaming an INBOX of 260 messages)', async () => {
    const store = await CassandraMailStore.open(options);
    try {
      const domain = `d${randomBytes(5).toString('hex')}.test`;
      await store.addDomain(domain);
      const user = await store.addUser(`dan@${domain}`, 'h');
      const delivered = await store.deliver(Array.from({ length: 260 }, (_, i) => ({
        messageKey: `${domain}:bulk-${i}`, userId: user.id, mailbox: 'INBOX', flags: i % 2 ? ['\\Seen'] : [], receivedAt: 1_700_000_000_000 + i,
        size: 100, body: { skeletonBlob: 'a'.repeat(64), parts: [] }, messageId: `<m${i}@x>`, inReplyTo: i > 0 ? `<m${i - 1}@x>` : null,
        references: [], subject: `s${i}`, from: [{ name: 'B', address: `b@${domain}` }], to: [], cc: [], date: null,
      })));
      expect(delivered[259].message.uid).toBe(260);
      expect(new Set(delivered.map((d) => d.message.threadId)).size).toBe(1);
      const [renamed] = await store.apply([{ kind: 'renameMailbox', commandId: `${domain}:r`, userId: user.id, from: 'INBOX', to: 'Old' }]);
      expect(renamed.kind).toBe('mailboxChanged');
      expect(await store.mailbox(user.id, 'Old')).toMatchObject({ messages: 260, unseen: 130, size: 26_000, uidNext: 261 });
      expect(await store.mailbox(user.id, 'INBOX')).toMatchObject({ messages: 0, unseen: 0, size: 0, uidNext: 261 });
      const old = (await store.mailbox(user.id, 'Old'))!;
      expect((await store.summaries(old.id)).map((s) => s.uid)).toEqual(Array.from({ length: 260 }, (_, i) => i + 1));
      expect((await store.message(`${domain}:bulk-7`))?.mailbox).toBe('Old');
    } finally {
      await store.close();
    }
  });

  it('keeps a message in the unread table until \\Seen is set, then in the read table', async () => {
    const store = await CassandraMailStore.open(options);
    const client = new cassandra.Client({ contactPoints, localDataCenter: 'datacenter1', keyspace: options.keyspace });
    try {
      const domain = `d${randomBytes(5).toString('hex')}.test`;
      await store.addDomain(domain);
      const user = await store.addUser(`carol@${domain}`, 'h');
      const [{ message }] = await store.deliver([{
        messageKey: `${domain}:k1`, userId: user.id, mailbox: 'INBOX', flags: [], receivedAt: 1_700_000_000_000, size: 10,
        body: { skeletonBlob: 'a'.repeat(64), parts: [] }, messageId: null, inReplyTo: null, references: [], subject: 's',
        from: [], to: [], cc: [], date: null,
      }]);
      const where = 'WHERE user_id = ? AND mailbox_id = ?';
      const count = async (table: string) => (await client.execute(`SELECT uid FROM ${table} ${where}`, [user.id, message.mailboxId], { prepare: true })).rowLength;
      expect([await count('unread_messages'), await count('read_messages')]).toEqual([1, 0]);
      await store.apply([{ kind: 'setFlags', commandId: `${domain}:c1`, userId: user.id, mailboxId: message.mailboxId, uids: [1], mode: 'add', flags: ['\\Seen'], unchangedSince: null }]);
      expect([await count('unread_messages'), await count('read_messages')]).toEqual([0, 1]);
      expect((await store.message(message.messageKey))?.flags).toEqual(['\\Seen']);
    } finally {
      await client.shutdown();
      await store.close();
    }
  });
});
