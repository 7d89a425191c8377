import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MboxFormatError, MboxParser, countMbox, formatAsctime, formatMboxEntry, openMboxWriter, parseAsctime, parseFromLine, readMbox } from './mbox.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
const crlf = (...lines: string[]) => Buffer.from(lines.join('\r\n') + '\r\n');

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const tricky = [
  crlf('From: a@example.test', 'Subject: one', '', 'From the start of a line', '>From quoted once', '>>From quoted twice', 'Fromage is not a From_ line', ''),
  crlf('Subject: ends with blank lines', '', 'body', '', ''),
  crlf('From someone@else Mon Jan  1 00:00:00 2024', 'Subject: starts with an envelope line', '', 'x'),
  crlf('Subject: blank line then From', '', 'para', '', 'From here on', '>From there'),
  Buffer.from('Subject: bare\r\n\r\nline with a \r inside\r\n'),
];

describe('mbox (mboxrd, RFC 4155)', () => {
  it('round-trips messages byte for byte, including From_ and >From_ body lines', async () => {
    const file = path.join(tmp(), 'INBOX.mbox');
    const writer = await openMboxWriter(file);
    const date = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
    for (const [i, bytes] of tricky.entries()) await writer.write(bytes, { sender: i === 0 ? 'a@example.test' : null, date });
    await writer.close();

    const disk = fs.readFileSync(file, 'latin1');
    expect(disk).not.toContain('\r\n'); // LF on disk
    expect(disk.startsWith('From a@example.test Tue Jan  2 03:04:05 2024\n')).toBe(true);
    expect(disk).toContain('\n>From the start of a line\n>>From quoted once\n>>>From quoted twice\nFromage');
    expect(disk).toContain('\nFrom MAILER-DAEMON Tue Jan  2 03:04:05 2024\n');

    const read = await collect(readMbox(file));
    expect(read.map((m) => m.bytes.toString('latin1'))).toEqual(tricky.map((b) => b.toString('latin1')));
    expect(read[0].sender).toBe('a@example.test');
    expect(read[1].sender).toBeNull();
    expect(read.every((m) => m.date?.getTime() === date.getTime())).toBe(true);
    expect(await countMbox(file)).toBe(tricky.length);
  });

  it('reads LF and CRLF files alike and gives CRLF messages', async () => {
    const dir = tmp();
    const text = 'From x@y Sat Jan  3 01:05:34 1996\nSubject: a\n\n>From b\n\nFrom MAILER-DAEMON Sat Jan  3 01:05:35 1996\nSubject: c\n\nd\n';
    fs.writeFileSync(path.join(dir, 'lf.mbox'), text);
    fs.writeFileSync(path.join(dir, 'crlf.mbox'), text.replace(/\n/g, '\r\n'));
    for (const name of ['lf.mbox', 'crlf.mbox']) {
      const read = await collect(readMbox(path.join(dir, name)));
      expect(read.map((m) => m.bytes.toString())).toEqual(['Subject: a\r\n\r\nFrom b\r\n', 'Subject: c\r\n\r\nd\r\n']);
      expect(read[0].date?.toISOString()).toBe('1996-01-03T01:05:34.000Z');
      expect(await countMbox(path.join(dir, name))).toBe(2);
    }
  });

  it('rejects a file that does not start with a From_ line', async () => {
    const file = path.join(tmp(), 'x.eml');
    fs.writeFileSync(file, 'Subject: not an mbox\n\nhello\n');
    await expect(collect(readMbox(file))).rejects.toBeInstanceOf(MboxFormatError);
  });

  it('splits the same way however the input is chunked (streaming)', () => {
    const line = fc.constantFrom('From x', '>From y', '>>From z', 'From', ' From a', '', 'Subject: s', 'body', 'a\rb', '>');
    const message = fc.array(line, { maxLength: 8 }).map((lines) => Buffer.from(lines.map((l) => `${l}\r\n`).join('')));
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1 }), (messages, cuts) => {
        const file = Buffer.concat(messages.map((m) => formatMboxEntry(m, { sender: 's@x', date: 0 })));
        const parser = new MboxParser();
        const out = [];
        let at = 0;
        for (let i = 0; at < file.length; i++) {
          const size = cuts[i % cuts.length];
          out.push(...parser.push(file.subarray(at, at + size)));
          at += size;
        }
        out.push(...parser.end());
        expect(out.map((m) => m.bytes.toString('latin1'))).toEqual(messages.map((m) => m.toString('latin1')));
      }),
      { numRuns: 300 },
    );
  });

  it('reads a file of many 1 MB stream chunks message by message', async () => {
    const file = path.join(tmp(), 'big.mbox');
    const writer = await openMboxWriter(file);
    const body = Buffer.from(`Subject: big\r\n\r\n${'x'.repeat(998)}\r\n`);
    const filler = Buffer.from(`${'y'.repeat(76)}\r\n`.repeat(2000)); // ~156 kB per message
    for (let i = 0; i < 60; i++) await writer.write(Buffer.concat([body, Buffer.from(`n=${i}\r\n`), filler]));
    await writer.close();
    let n = 0;
    for await (const m of readMbox(file)) {
      expect(m.bytes.subarray(0, 14).toString()).toBe('Subject: big\r\n');
      n++;
    }
    expect(n).toBe(60);
    expect(await countMbox(file)).toBe(60);
  });

  it('parses and formats From_ line dates (asctime, UTC)', () => {
    const d = new Date(Date.UTC(2023, 10, 5, 7, 8, 9));
    expect(formatAsctime(d)).toBe('Sun Nov  5 07:08:09 2023');
    expect(parseAsctime(formatAsctime(d))?.getTime()).toBe(d.getTime());
    expect(parseAsctime('Thu Jan  1 02:00:00 +0200 1970')?.getTime()).toBe(0);
    expect(parseAsctime('not a date')).toBeNull();
    expect(parseFromLine('From MAILER-DAEMON Thu Jan  1 00:00:00 1970')).toEqual({ sender: null, date: new Date(0) });
    expect(parseFromLine('From bob@example.test')).toEqual({ sender: 'bob@example.test', date: null });
  });
});
