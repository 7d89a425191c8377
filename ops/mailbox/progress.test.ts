import { describe, it, expect } from 'vitest';
import { PassThrough } from 'node:stream';
import { createProgress, formatExportSummary, formatImportSummary, printSummary, type ProgressStream } from './progress.ts';

function sink(isTTY: boolean): { stream: ProgressStream; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = 100;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('progress', () => {
  it('writes plain lines at most once per interval when not on a terminal', async () => {
    const out = sink(false);
    let clock = 0;
    const p = createProgress({ label: 'import alice@example.test', stream: out.stream, intervalMs: 1000, now: () => clock });
    for (let done = 1; done <= 10; done++) {
      clock += 300;
      p.update(done, 10);
    }
    p.stop();
    await settle();
    expect(out.text()).toBe(
      ['import alice@example.test: 4/10 messages (40%)', 'import alice@example.test: 8/10 messages (80%)', 'import alice@example.test: 10/10 messages (100%)', ''].join('\n'),
    );
    expect(out.text()).not.toContain('\x1b');
  });

  it('stays silent for a run shorter than one interval', async () => {
    const out = sink(false);
    const p = createProgress({ label: 'export', stream: out.stream, intervalMs: 60_000 });
    p.update(1, 2);
    p.update(2, 2);
    p.stop();
    await settle();
    expect(out.text()).toBe('');
  });

  it('draws a cli-progress bar on a terminal', async () => {
    const out = sink(true);
    const p = createProgress({ label: 'import', stream: out.stream });
    p.update(0, 4);
    p.update(4, 4);
    p.stop();
    await settle();
    expect(out.text()).toContain('import [');
    expect(out.text()).toContain('100% | 4/4 messages');
    expect(out.text()).toContain('\x1b'); // terminal control sequences
  });

  it('formats the summary lines', async () => {
    expect(formatImportSummary('a@x', { imported: 41, duplicates: 1, failed: 0, mailboxes: { INBOX: 40, Sent: 1 } }, 1250)).toBe(
      'imported 41 messages for a@x (INBOX 40, Sent 1), 1 duplicate skipped, 0 failed in 1.3 s',
    );
    expect(formatExportSummary('a@x', { messages: 1, mailboxes: 6, bytes: 3 * 1024 * 1024 }, 'out', 400)).toBe(
      'exported 1 message of a@x from 6 mailboxes (3.0 MB) to out in 0.4 s',
    );
    const out = sink(false);
    printSummary('done', out.stream);
    await settle();
    expect(out.text()).toBe('done\n');
  });
});
