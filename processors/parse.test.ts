import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProcessor } from './parse.ts';
import type { ParseConfig } from './parse.ts';
import type { ParsedMail } from '../schemas/types.ts';
import { hardCases } from './mime/hard-cases.ts';
import { capUtf8, messageIds } from './mime/read-message.ts';
import { inputRecord, openTestResources, receivedFor } from './test-resources.ts';
import type { TestResources } from './test-resources.ts';

let res: TestResources;
beforeAll(() => {
  res = openTestResources();
});
afterAll(async () => {
  await res.close();
});

async function parse(raw: Buffer | string, config: Partial<ParseConfig> = {}): Promise<ParsedMail> {
  const bytes = typeof raw === 'string' ? Buffer.from(raw) : raw;
  const rawBlob = await res.blobs.put(bytes);
  const processor = parseProcessor.create(parseProcessor.spec.config.parse(config), res);
  const received = receivedFor(rawBlob, bytes.length);
  const out = await processor.process(inputRecord('mail.received', received.userId, received));
  expect(out).toHaveLength(1);
  expect(out[0].key).toBe(received.userId);
  expect(out[0].value.received).toEqual(received);
  return out[0].value;
}

const hard = (name: string): Buffer => {
  const found = hardCases().find((c) => c.name === name);
  if (!found) throw new Error(`no hard case ${name}`);
  return found.raw;
};

describe('parse stage', () => {
  it('has the spec the topology expects', () => {
    expect(parseProcessor.name).toBe('parse');
    expect(parseProcessor.spec.input).toBe('MailReceived');
    expect(parseProcessor.spec.output).toBe('ParsedMail');
    expect(parseProcessor.spec.config.parse({})).toEqual({ maxTextBytes: 1024 * 1024 });
    expect(parseProcessor.spec.config.parse({ maxTextBytes: '2KiB' })).toEqual({ maxTextBytes: 2048 });
    expect(() => parseProcessor.spec.config.parse({ maxTextBytes: 'lots' })).toThrow();
  });

  it('reads thread ids, addresses, date and text of a nested multipart', async () => {
    const m = await parse(hard('nested-multipart'));
    expect(m.messageId).toBe('<nested-1@example.org>');
    expect(m.inReplyTo).toBe('<parent-1@example.org>'); // first id only
    expect(m.references).toEqual(['<root-1@example.org>', '<parent-1@example.org>']);
    expect(m.subject).toBe('Nested parts');
    expect(m.from).toEqual([{ name: 'Alice', address: 'alice@example.org' }]);
    expect(m.to).toEqual([{ name: 'Bob', address: 'bob@example.test' }]);
    expect(m.cc).toEqual([
      { name: 'Carol', address: 'carol@example.net' },
      { name: '', address: 'dave@example.net' },
    ]);
    expect(m.date).toBe(Date.UTC(2025, 0, 6, 10, 0, 0));
    expect(m.text).toContain('Plain body of the nested message.');
    expect(m.attachments).toEqual(
      expect.arrayContaining([
        { filename: 'data.bin', contentType: 'application/octet-stream', size: 1000 },
        expect.objectContaining({ contentType: 'image/png', size: 300 }),
      ]),
    );
  });

  it('decodes quoted-printable, RFC 2047 words and legacy charsets', async () => {
    expect((await parse(hard('quoted-printable'))).text).toContain('Café crème brûlée, a long line that is wrapped with a soft line break, and an equals sign = here.');
    const ew = await parse(hard('encoded-words'));
    expect(ew.subject).toBe('Grüße aus Zürich✓ done');
    expect(ew.from).toEqual([{ name: 'Zoë Müller', address: 'zoe@example.org' }]);
    expect((await parse(hard('iso-8859-1'))).text).toContain('Grüße aus Zürich, ça va?');
    const sjis = await parse(hard('shift-jis'));
    expect(sjis.subject).toBe('日本語');
    expect(sjis.text).toContain('日本語');
  });

  it('gives the header block unfolded and decoded, one "name: value" line per field', async () => {
    const m = await parse(
      'From: =?utf-8?q?Zo=C3=AB?= <zoe@example.org>\r\nSubject: =?utf-8?b?R3LDvMOfZQ==?=\r\n  continued\r\n' +
        'X-Empty:\r\nX-Raw: caf\u00e9\r\n\r\nSubject: not a header\r\n',
    );
    expect(m.headers).toBe('from: Zoë <zoe@example.org>\nsubject: Grüße  continued\nx-empty: \nx-raw: café');
    expect((await parse(hard('encoded-words'))).headers).toMatch(/^subject: Grüße aus Zürich✓ done$/m);
    expect((await parse(Buffer.alloc(0))).headers).toBe('');
  });

  it('converts HTML to text when there is no text part', async () => {
    const m = await parse(hard('html-only'));
    expect(m.text).toContain('Weekly news');
    expect(m.text).toContain('First item & more.');
    expect(m.text).not.toContain('<');
    expect(m.text).not.toContain('color:red');
  });

  it('flattens groups, reads LF-only messages and RFC 2231 file names', async () => {
    const m = await parse(hard('group-addresses-lf'));
    expect(m.from).toEqual([{ name: 'Smith, Anna', address: 'anna@example.org' }]);
    expect(m.to.map((a) => a.address)).toEqual(['a@example.test', 'b@example.test', 'solo@example.test']);
    expect(m.date).toBe(Date.UTC(2025, 0, 7, 14, 30, 0));
    expect(m.attachments.map((a) => a.filename)).toEqual(['résumé.csv']);
  });

  it('decodes an encoded-word some senders put in the local part', async () => {
    const m = await parse('From: =?utf-8?q?Zo=C3=AB?= <=?utf-8?q?zo=C3=AB?=.novak@example.com>\r\nSubject: x\r\n\r\nhi\r\n');
    expect(m.from).toEqual([{ name: 'Zoë', address: 'zoë.novak@example.com' }]);
  });

  it('gives a record for messages with no body, a broken boundary or garbage', async () => {
    const nobody = await parse(hard('no-body'));
    expect(nobody.subject).toBe('No body at all');
    expect(nobody.text).toBe('');
    const broken = await parse(hard('broken-boundary'));
    expect(broken.subject).toBe('Broken boundary');
    expect(broken.messageId).toBe('<broken-1@example.org>');
    const garbage = await parse(Buffer.from([0, 1, 2, 0xff, 0xfe, 13, 10, 13, 10, 0x80]));
    expect(garbage).toMatchObject({ messageId: null, subject: '', from: [], date: null, references: [] });
    const empty = await parse(Buffer.alloc(0));
    expect(empty).toMatchObject({ messageId: null, subject: '', text: '', attachments: [] });
    const badDate = await parse('Date: not a date\r\nMessage-ID: plain@id.example\r\n\r\nx');
    expect(badDate.date).toBeNull();
    expect(badDate.messageId).toBe('<plain@id.example>');
  });

  it('survives a 100-level nested multipart and a 1 MB header quickly', async () => {
    let head = 'From: a@example.org\r\nSubject: bomb\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n';
    let tail = '';
    for (let i = 1; i <= 100; i++) {
      head += `--b${i - 1}\r\nContent-Type: multipart/mixed; boundary=b${i}\r\n\r\n`;
      tail = `\r\n--b${i - 1}--\r\n${tail}`;
    }
    const nested = `${head}--b100\r\nContent-Type: text/plain\r\n\r\ndeep\r\n--b100--${tail}`;
    const huge = `From: a@example.org\r\nSubject: big\r\nX-Big: ${'x'.repeat(1 << 20)}\r\nX-Folded: a\r\n${' b\r\n'.repeat(50_000)}\r\nbody\r\n`;
    const started = Date.now();
    const a = await parse(nested);
    const b = await parse(huge);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(a.subject).toBe('bomb');
    expect(a.from).toEqual([{ name: '', address: 'a@example.org' }]);
    expect(b.subject).toBe('big');
    expect(b.text).toContain('body');
  });

  it('caps the text at maxTextBytes on a character boundary', async () => {
    const m = await parse(`Subject: long\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${'é'.repeat(5000)}\r\n`, { maxTextBytes: 1001 });
    expect(Buffer.byteLength(m.text)).toBe(1000);
    expect(m.text).toBe('é'.repeat(500));
    expect(capUtf8('ab😀', 5)).toBe('ab');
    expect(capUtf8('ab😀', 6)).toBe('ab😀');
    expect(messageIds('<a@x> junk <b@y>')).toEqual(['<a@x>', '<b@y>']);
  });

  it('throws when the raw blob is missing, so the runner dead-letters the record', async () => {
    const processor = parseProcessor.create(parseProcessor.spec.config.parse({}), res);
    const received = receivedFor('0'.repeat(64), 10);
    await expect(processor.process(inputRecord('mail.received', received.userId, received))).rejects.toThrow(/not found/);
  });
});
