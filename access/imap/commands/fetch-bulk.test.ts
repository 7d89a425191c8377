import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, sampleMessage, startHarness, type Harness } from '../fetch/test-context.ts';

const COUNT = 1500;
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  const raws = Array.from({ length: COUNT }, (_, i) => sampleMessage(i + 1));
  for (let i = 0; i < raws.length; i += 500) await h.env.deliverMany(ALICE, raws.slice(i, i + 500));
  await h.select();
});
afterAll(() => h.close());

describe('FETCH over a large mailbox', () => {
  it('streams FETCH 1:* (FLAGS ENVELOPE) in a few large writes, not one per message, faster the second time (cache)', async () => {
    let started = performance.now();
    const first = await h.run('f1 FETCH 1:* (FLAGS ENVELOPE)');
    const cold = performance.now() - started;
    // ~64 KiB per write: more than one (it streams), far fewer than one per message.
    expect(first.writes).toBeGreaterThan(1);
    expect(first.writes).toBeLessThan(COUNT / 20);
    const lines = first.out.split('\r\n').filter((l) => l.startsWith('* '));
    expect(lines).toHaveLength(COUNT);
    expect(lines[COUNT - 1]).toMatch(new RegExp(`^\\* ${COUNT} FETCH \\(FLAGS \\(\\) ENVELOPE \\(".*" "Message ${COUNT}"`));
    started = performance.now();
    const second = await h.run('f2 FETCH 1:* (FLAGS ENVELOPE)');
    const warm = performance.now() - started;
    expect(second.out).toBe(first.out);
    // Generous bounds for a shared 2-core machine; typical: cold ~150 ms, warm ~40 ms.
    expect(cold).toBeLessThan(5000);
    expect(warm).toBeLessThan(2000);
  });

  it('UID FETCH of a UID range returns exactly those messages', async () => {
    const { out } = await h.run('f3 UID FETCH 700:703 (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (Subject)])');
    expect(out.match(/^\* \d+ FETCH \(UID (\d+)/gm)).toEqual(['* 700 FETCH (UID 700', '* 701 FETCH (UID 701', '* 702 FETCH (UID 702', '* 703 FETCH (UID 703']);
    expect(out).toContain('Subject: Message 703\r\n');
  });
});
