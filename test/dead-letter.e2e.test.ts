/**
 * Poison record: a record that makes a stage throw goes to the stage's dead-letter topic with
 * its error, the partition keeps flowing (a later message for the same user is stored), and
 * `sluice dlq replay` re-runs it once the cause is fixed.
 */
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { provision, sluice, startSluice, tempDir, waitFor } from './harness/server.ts';
import { allMessages, metricSum, openStoreOf, scrape } from './harness/inspect.ts';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { openEmbeddedBlobStore } from '../ops/app.ts';
import { schemaType } from '../schemas/registry.ts';
import type { MailReceived } from '../schemas/types.ts';

const USER = 'poison@sluice.test';

/** One message over a raw SMTP session (RFC 5321 §3.3), answering each reply in turn. */
async function smtpSend(port: number, rcpt: string, body: string): Promise<string[]> {
  const socket = createConnection({ host: '127.0.0.1', port });
  const replies: string[] = [];
  let buf = '';
  const next = () =>
    new Promise<string>((resolve) => {
      const check = () => {
        const m = /^(\d{3}) .*\r\n/m.exec(buf);
        if (!m) return false;
        const end = buf.indexOf('\r\n', m.index) + 2;
        const reply = buf.slice(0, end);
        buf = buf.slice(end);
        replies.push(reply.trim());
        resolve(reply);
        return true;
      };
      if (check()) return;
      const onData = (d: Buffer) => {
        buf += d.toString();
        if (check()) socket.off('data', onData);
      };
      socket.on('data', onData);
    });
  await next();
  for (const line of ['EHLO client.test', 'MAIL FROM:<a@client.test>', `RCPT TO:<${rcpt}>`, 'DATA']) {
    socket.write(line + '\r\n');
    await next();
  }
  socket.write(body.replace(/\r?\n/g, '\r\n') + '\r\n.\r\n');
  await next();
  socket.write('QUIT\r\n');
  await next();
  socket.end();
  return replies;
}

describe('dead letters', () => {
  it('parks a poison record, keeps the partition flowing, and replays it', async () => {
    const dataDir = tempDir();
    await provision(dataDir, 'sluice.test', [USER]);
    const server = await startSluice({ dataDir });
    try {
      // A mail.received record whose raw message is not (yet) in the blob store: parse throws.
      const raw = Buffer.from('From: a@client.test\r\nTo: poison@sluice.test\r\nSubject: late blob\r\nMessage-ID: <poison@test>\r\n\r\nbody of the poison record\r\n');
      const sha = createHash('sha256').update(raw).digest('hex');
      const record: MailReceived = {
        ingressId: 'poison-1', userId: USER, recipient: USER, mailFrom: 'a@client.test', source: 'smtp', remoteAddress: '127.0.0.1',
        helo: 'client.test', receivedAt: Date.now(), rawBlob: sha, size: raw.length, mailbox: 'INBOX', flags: [],
      };
      const log = new EmbeddedLog({ path: join(dataDir, 'log.db') });
      await log.produce([{ topic: 'mail.received', key: USER, value: schemaType('MailReceived').toBuffer(record) }]);
      await log.close();

      // A normal message for the same user (same partition) after it is still delivered.
      const replies = await smtpSend(server.smtpPort, USER, 'From: a@client.test\r\nSubject: after\r\nMessage-ID: <after@test>\r\n\r\nstill flowing\r\n');
      expect(replies.at(-2)).toMatch(/^250 /);
      await waitFor('dead letter counted', async () => metricSum(await scrape(server.httpPort), 'sluice_dead_letter_records', { topic: 'parse.dlq' }) === 1, 30_000);
      const store = openStoreOf(dataDir);
      await waitFor('later message stored', async () => (await allMessages(store, [USER])).some((m) => m.messageId === '<after@test>'), 30_000);

      const listed = await sluice(['dlq', 'list'], { dataDir });
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/parse\.dlq\/0\/0\tpending\tstage=parse\tfrom=mail\.received\/\d+\/\d+\tkey=poison@sluice\.test\t.*blob not found/);

      // Fix the cause (the blob arrives), then replay.
      const blobs = openEmbeddedBlobStore(dataDir);
      expect(await blobs.put(raw)).toBe(sha);
      await blobs.close();
      const replayed = await sluice(['dlq', 'replay', 'parse'], { dataDir });
      expect(replayed.code).toBe(0);
      expect(replayed.stdout).toContain('replayed 1 record(s) in all');
      await waitFor('replayed message stored', async () => (await allMessages(store, [USER])).some((m) => m.messageId === '<poison@test>'), 30_000);

      // Replayed once: a second replay finds nothing new.
      const again = await sluice(['dlq', 'replay', 'parse'], { dataDir });
      expect(again.stdout).toContain('replayed 0 record(s) in all');
      expect((await sluice(['dlq', 'list'], { dataDir })).stdout).toMatch(/\treplayed\t/);
      await store.close();
    } finally {
      await server.stop();
    }
  }, 120_000);
});
