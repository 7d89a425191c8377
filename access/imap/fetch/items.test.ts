import { describe, expect, it } from 'vitest';
import type { FetchAttribute } from '../command.ts';
import type { StoredMessage } from '../../../connectors/store/store.ts';
import { fetchLine, needsBytes, setsSeen, structureValues, withoutNul } from './items.ts';
import { binaryName, bodySectionName } from './names.ts';
import { Lru } from './lru.ts';
import { forEachOrdered } from './ordered-reads.ts';

const RAW = Buffer.from('From: Zoë <z@example.org>\r\nSubject: Grüße\r\n\r\nHi\r\n');

function stored(key: string): StoredMessage {
  return {
    messageKey: key, userId: 'u', mailboxId: 1, mailbox: 'INBOX', uid: 7, modseq: 3, threadId: 't', flags: ['\\Seen', '$X'],
    receivedAt: Date.UTC(2026, 0, 2, 3, 4, 5), size: RAW.length, body: { skeletonBlob: 'b', parts: [] }, messageId: null,
    subject: 'Grüße', from: [], to: [], cc: [], date: null,
  };
}

const ENVELOPE: FetchAttribute[] = [{ kind: 'ENVELOPE' }];

function line(key: string, raw: Buffer | null, utf8: boolean, attributes: FetchAttribute[] = ENVELOPE) {
  return fetchLine({ seq: 1, message: stored(key), raw, cached: structureValues(key), attributes, addUid: false, addFlags: false, addModseq: false, utf8 });
}

describe('fetch items', () => {
  it('serves ENVELOPE from the cache without bytes, per quoting mode (RFC 9051 §7.5.2)', () => {
    const first = line('k1', RAW, false);
    expect(first.ok && first.chunks.join('')).toContain('ENVELOPE (NIL {7}\r\nGrüße');
    expect(needsBytes(ENVELOPE, structureValues('k1'), false)).toBe(false);
    expect(line('k1', null, false)).toEqual(first);
    // UTF-8 quoting was never encoded, and the value itself is not kept: the caller must read the bytes.
    expect(needsBytes(ENVELOPE, structureValues('k1'), true)).toBe(true);
    expect(line('k1', null, true)).toEqual({ ok: false, code: 'NEED-BYTES' });
    const utf8 = line('k1', RAW, true);
    expect(utf8.ok && utf8.chunks.join('')).toContain('ENVELOPE (NIL "Grüße"');
  });

  it('FLAGS, INTERNALDATE, MODSEQ need no bytes; each item once', () => {
    const attrs: FetchAttribute[] = [{ kind: 'FLAGS' }, { kind: 'INTERNALDATE' }, { kind: 'FLAGS' }, { kind: 'MODSEQ' }];
    expect(needsBytes(attrs, structureValues('k2'), false)).toBe(false);
    const out = line('k2', null, false, attrs);
    expect(out.ok && out.chunks.join('')).toBe('* 1 FETCH (FLAGS (\\Seen $X) INTERNALDATE " 2-Jan-2026 03:04:05 +0000" MODSEQ (3))\r\n');
  });

  it('knows which attributes set \\Seen (RFC 9051 §6.4.5)', () => {
    const section = { part: [], text: null, fields: [] };
    expect(setsSeen([{ kind: 'BODY[]', peek: true, section, partial: null }])).toBe(false);
    expect(setsSeen([{ kind: 'RFC822.HEADER' }])).toBe(false);
    expect(setsSeen([{ kind: 'BODY[]', peek: false, section, partial: null }])).toBe(true);
    expect(setsSeen([{ kind: 'RFC822.TEXT' }])).toBe(true);
    expect(setsSeen([{ kind: 'BINARY[]', peek: false, part: [1], partial: null }])).toBe(true);
  });

  it('names echo the section and the partial origin', () => {
    expect(bodySectionName({ part: [1, 2], text: 'HEADER.FIELDS.NOT', fields: ['X-A', 'Odd Name'] }, { offset: 5, length: 9 })).toBe(
      'BODY[1.2.HEADER.FIELDS.NOT (X-A "Odd Name")]<5>',
    );
    expect(bodySectionName({ part: [3], text: 'MIME', fields: [] }, null)).toBe('BODY[3.MIME]');
    expect(binaryName('BINARY.SIZE', [1, 1])).toBe('BINARY.SIZE[1.1]');
  });
});

describe('helpers', () => {
  it('Lru evicts the least recently used', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.get('a');
    lru.set('c', 3);
    expect([lru.get('a'), lru.get('b'), lru.get('c'), lru.size]).toEqual([1, undefined, 3, 2]);
  });

  it('forEachOrdered keeps order with loads finishing out of order, and bounds the window', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachOrdered(
      [5, 1, 4, 2, 3, 0],
      3,
      async (n) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, n * 3));
        running--;
        return n * 10;
      },
      (n, r) => {
        seen.push(r);
      },
    );
    expect(seen).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBeLessThanOrEqual(3);
  });
});

// RFC 3516 §4.3: NUL never goes in a plain literal; BODY[n] of binary content is sent as base64.
describe('withoutNul', () => {
  const part = { part: [1], text: null, fields: [] };
  it('base64-encodes part content holding NUL, in lines of 76', () => {
    const bytes = Buffer.from('\0-\xe4\n\r\n', 'latin1');
    expect(withoutNul(bytes, part).toString()).toBe(`${bytes.toString('base64')}\r\n`);
    const long = Buffer.alloc(100);
    expect(withoutNul(long, part).toString().split('\r\n').map((l) => l.length)).toEqual([76, 60, 0]);
  });
  it('leaves other content and other sections as they are', () => {
    const text = Buffer.from('plain');
    expect(withoutNul(text, part)).toBe(text);
    const nul = Buffer.from('a\0b');
    expect(withoutNul(nul, { part: [], text: null, fields: [] })).toBe(nul);
    expect(withoutNul(nul, { part: [1], text: 'MIME', fields: [] })).toBe(nul);
  });
});
