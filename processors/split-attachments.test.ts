import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import MailComposer from 'nodemailer/lib/mail-composer';
import { splitAttachmentsProcessor, rangesToSplit } from './split-attachments.ts';
import { parseProcessor } from './parse.ts';
import type { MailboxCommand, ParsedMail } from '../schemas/types.ts';
import { readMessageBytes } from '../connectors/blob/body.ts';
import { hardCases, messageWithAttachment, pseudoRandomBytes } from './mime/hard-cases.ts';
import type { HardCase } from './mime/hard-cases.ts';
import { inputRecord, openTestResources, receivedFor } from './test-resources.ts';
import type { TestResources } from './test-resources.ts';

let res: TestResources;
beforeAll(() => {
  res = openTestResources();
});
afterAll(async () => {
  await res.close();
});

/** Runs parse then split-attachments on `raw`, as the inbound topology does. */
async function deliver(raw: Buffer, threshold: number | string = '128KiB', ingressId = 'ing-1', recipient = 'Bob@Example.test'): Promise<MailboxCommand> {
  const rawBlob = await res.blobs.put(raw);
  const received = receivedFor(rawBlob, raw.length, ingressId, recipient);
  const parse = parseProcessor.create(parseProcessor.spec.config.parse({}), res);
  const [parsed] = await parse.process(inputRecord('mail.received', received.userId, received));
  const split = splitAttachmentsProcessor.create(splitAttachmentsProcessor.spec.config.parse({ threshold }), res);
  const out = await split.process(inputRecord<ParsedMail>('mail.parsed', parsed.key, parsed.value));
  expect(out).toHaveLength(1);
  expect(out[0].key).toBe(received.userId);
  return out[0].value;
}

/** Messages composed by nodemailer: text, HTML, attachments from 1 KB to 600 KB, some inline. */
async function composedCorpus(): Promise<HardCase[]> {
  const sizes = [0, 1024, 100 * 1024, 140 * 1024, 300 * 1024, 600 * 1024];
  const out: HardCase[] = [];
  for (let i = 0; i < 12; i++) {
    const attachments = [sizes[i % sizes.length], sizes[(i * 7 + 3) % sizes.length]]
      .filter((n) => n > 0)
      .map((n, j) => ({ filename: `file-${i}-${j}.bin`, content: pseudoRandomBytes(n, i * 10 + j + 1), contentType: j ? 'image/png' : 'application/pdf' }));
    const raw = await new MailComposer({
      from: 'Alice <alice@example.org>',
      to: 'bob@example.test',
      subject: `Composed ${i} — ünïcödé`,
      text: `Message ${i}\n${'line of text '.repeat(i * 50)}`,
      html: i % 2 ? `<p>Message <b>${i}</b></p>` : undefined,
      attachments,
      textEncoding: i % 3 ? 'quoted-printable' : 'base64',
    })
      .compile()
      .build();
    out.push({ name: `composed-${i}`, raw });
  }
  return out;
}

describe('split-attachments stage', () => {
  it('stores the header fields earlier stages added on top of the raw bytes, written once, with or without cuts', async () => {
    for (const bodySize of [10, 200 * 1024]) {
      const raw = Buffer.from(`From: a@example.org\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n${'x'.repeat(bodySize)}\r\n--b--\r\n`);
      const rawBlob = await res.blobs.put(raw);
      const received = receivedFor(rawBlob, raw.length, `ing-added-${bodySize}`);
      const [parsed] = await parseProcessor.create(parseProcessor.spec.config.parse({}), res).process(inputRecord('mail.received', received.userId, received));
      const added = 'X-Sluice-Virus-Scan: clean (clamd)\r\nAuthentication-Results: mx.sluice.test;\r\n spf=none\r\n';
      const split = splitAttachmentsProcessor.create(splitAttachmentsProcessor.spec.config.parse({ threshold: '128KiB' }), res);
      const [out] = await split.process(inputRecord<ParsedMail>('mail.scanned', parsed.key, { ...(parsed.value as ParsedMail), addedHeaders: added }));
      const d = out.value.deliver!;
      const stored = await readMessageBytes(res.blobs, { skeletonBlob: d.skeletonBlob, parts: d.parts });
      expect(stored.toString('latin1')).toBe(added + raw.toString('latin1'));
      expect(d.size).toBe(stored.length);
      expect(d.skeletonBlob).not.toBe(rawBlob);
      expect(d.parts).toHaveLength(bodySize > 1024 ? 1 : 0);
      expect((await res.blobs.get(rawBlob)).equals(raw)).toBe(true); // the raw message itself is left as it came
    }
  });

  it('has the spec the topology expects and reads byte sizes', () => {
    expect(splitAttachmentsProcessor.name).toBe('split-attachments');
    expect(splitAttachmentsProcessor.spec.input).toBe('ParsedMail');
    expect(splitAttachmentsProcessor.spec.output).toBe('MailboxCommand');
    const cfg = splitAttachmentsProcessor.spec.config;
    expect(cfg.parse({})).toEqual({ threshold: 128 * 1024 });
    expect(cfg.parse({ threshold: '128KiB' })).toEqual({ threshold: 131072 });
    expect(cfg.parse({ threshold: '1MB' })).toEqual({ threshold: 1_000_000 });
    expect(cfg.parse({ threshold: '2 MiB' })).toEqual({ threshold: 2 * 1024 * 1024 });
    expect(cfg.parse({ threshold: 4096 })).toEqual({ threshold: 4096 });
    expect(() => cfg.parse({ threshold: 'big' })).toThrow(/byte size/);
    expect(() => cfg.parse({ threshold: -1 })).toThrow();
  });

  it('cuts a large attachment out and the skeleton plus parts give back the exact bytes', async () => {
    const attachment = pseudoRandomBytes(400 * 1024, 3);
    const raw = messageWithAttachment('cut-1', attachment);
    const cmd = await deliver(raw);
    const d = cmd.deliver!;
    expect(d.parts).toHaveLength(1);
    expect(d.skeletonBlob).not.toBe(d.rawBlob);
    expect((await res.blobs.get(d.skeletonBlob)).length).toBe(raw.length - d.parts[0].length);
    const cut = await res.blobs.get(d.parts[0].blob);
    expect(Buffer.from(cut.toString('latin1'), 'base64').equals(attachment)).toBe(true);
    expect(cut.subarray(-2).toString()).not.toBe('\r\n'); // the CRLF before the boundary stays in the skeleton
    expect((await readMessageBytes(res.blobs, d)).equals(raw)).toBe(true);
  });

  it('fills the deliver command from the received and parsed records', async () => {
    const raw = hardCases().find((c) => c.name === 'nested-multipart')!.raw;
    const cmd = await deliver(raw, '128KiB', 'ing-42', 'Bob@Example.test');
    expect(cmd).toMatchObject({ commandId: 'deliver:ing-42:bob@example.test', userId: 'bob@example.test', issuedAt: 1_736_157_601_000 });
    expect(cmd.deliver).toMatchObject({
      messageKey: 'ing-42:bob@example.test',
      mailbox: 'INBOX',
      flags: [],
      receivedAt: 1_736_157_601_000,
      size: raw.length,
      parts: [],
      messageId: '<nested-1@example.org>',
      inReplyTo: '<parent-1@example.org>',
      references: ['<root-1@example.org>', '<parent-1@example.org>'],
      subject: 'Nested parts',
      from: [{ name: 'Alice', address: 'alice@example.org' }],
      date: Date.UTC(2025, 0, 6, 10),
      attachmentNames: ['data.bin'],
    });
    expect(cmd.deliver!.skeletonBlob).toBe(cmd.deliver!.rawBlob); // nothing over the threshold
    expect(cmd.deliver!.text).toContain('Plain body of the nested message.');
    expect(cmd.deliver!.headers).toMatch(/^subject: Nested parts$/m); // the parsed header block, passed on
    expect(cmd.deliver!.headers).toMatch(/^message-id: <nested-1@example\.org>$/m);
  });

  it('is deterministic: the same input gives the same command', async () => {
    const raw = messageWithAttachment('det-1', pseudoRandomBytes(200 * 1024, 5));
    expect(await deliver(raw)).toEqual(await deliver(raw));
  });

  it('stores an attachment shared by two messages once', async () => {
    const shared = pseudoRandomBytes(300 * 1024, 99);
    const a = (await deliver(messageWithAttachment('dedup-a', shared), '128KiB', 'ing-a')).deliver!;
    const b = (await deliver(messageWithAttachment('dedup-b', shared), '128KiB', 'ing-b')).deliver!;
    expect(a.parts).toHaveLength(1);
    expect(b.parts[0].blob).toBe(a.parts[0].blob);
    expect(a.skeletonBlob).not.toBe(b.skeletonBlob);
    expect(await res.blobs.has(a.parts[0].blob)).toBe(true);
    const files = fs.readdirSync(path.join(res.dir, 'blobs'), { recursive: true, encoding: 'utf8' });
    expect(files.filter((f) => f.includes(a.parts[0].blob))).toHaveLength(1);
  });

  it('reassembles every message of the corpus exactly, at several thresholds', async () => {
    const corpus = [...hardCases(), ...(await composedCorpus())];
    let cuts = 0;
    for (const threshold of [0, 64, 128 * 1024]) {
      for (const { name, raw } of corpus) {
        const d = (await deliver(raw, threshold, `ing-${name}`)).deliver!;
        cuts += d.parts.length;
        const back = await readMessageBytes(res.blobs, d);
        expect(back.equals(raw), `${name} at ${threshold}`).toBe(true);
        for (let i = 1; i < d.parts.length; i++) expect(d.parts[i].offset).toBeGreaterThanOrEqual(d.parts[i - 1].offset);
        if (d.parts.length === 0) expect(d.skeletonBlob).toBe(d.rawBlob);
      }
    }
    expect(cuts).toBeGreaterThan(corpus.length); // the small thresholds really cut
  });

  it('never cuts what broken MIME does not delimit', () => {
    const byName = new Map(hardCases().map((c) => [c.name, c.raw]));
    expect(rangesToSplit(byName.get('broken-boundary')!, 0)).toEqual([]);
    const truncated = byName.get('unterminated-multipart')!;
    const cuts = rangesToSplit(truncated, 0);
    expect(cuts.map((c) => truncated.toString('utf8', c.start, c.end))).toEqual(['First part is complete.']);
  });

  it('throws when the raw blob is missing, so the runner dead-letters the record', async () => {
    const raw = Buffer.from('Subject: x\r\n\r\ny');
    const rawBlob = await res.blobs.put(raw);
    const received = receivedFor(rawBlob, raw.length);
    const [parsed] = await parseProcessor.create(parseProcessor.spec.config.parse({}), res).process(inputRecord('mail.received', received.userId, received));
    const missing = { ...parsed.value, received: { ...received, rawBlob: 'f'.repeat(64) } };
    const split = splitAttachmentsProcessor.create(splitAttachmentsProcessor.spec.config.parse({}), res);
    await expect(split.process(inputRecord('mail.parsed', received.userId, missing))).rejects.toThrow(/not found/);
  });
});
