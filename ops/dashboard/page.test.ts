import { describe, expect, it } from 'vitest';
import { JSDOM } from 'jsdom';
import { CLIENT_ROWS, engineRows, stageRows } from './rows.ts';
import { escapeHtml, renderOpsPage } from './page.ts';
import type { OpsSnapshot, StageSnapshot } from './snapshot.ts';

const rate = (recordsPerSecond: number, batchMs: number | null = null) => ({ recordsPerSecond, batches: batchMs === null ? 0 : 3, batchMs });

function stage(over: Partial<StageSnapshot>): StageSnapshot {
  return {
    topology: 'inbound',
    stage: 'parse',
    group: 'inbound.parse',
    from: 'mail.received',
    partitions: [],
    deadLetter: null,
    lagRecords: 0,
    lagSeconds: 0,
    throughput: { last10s: rate(0), last1m: rate(0) },
    ...over,
  };
}

const HOSTILE = '<script>alert("x")</script>&\'';

const SNAPSHOT: OpsSnapshot = {
  at: '2026-12-07T08:00:00.000Z',
  logError: null,
  runsStages: true,
  notes: { lag: 'lag note', throughput: 'throughput note' },
  topologies: [
    {
      name: 'inbound',
      stages: [
        stage({
          partitions: [
            { topic: 'mail.received', partition: 0, committed: 10, end: 14, lagRecords: 4, lagSeconds: 2.25, committedPerSecond: 1.5 },
            { topic: 'mail.received', partition: 1, committed: 3, end: 3, lagRecords: 0, lagSeconds: 0, committedPerSecond: null },
          ],
          deadLetter: { topic: 'parse.dlq', records: 2, topicRecords: 2, sharedWith: [] },
          lagRecords: 4,
          lagSeconds: 2.25,
          throughput: { last10s: rate(12.34, 4.5), last1m: rate(2, 3.25) },
        }),
        stage({ stage: HOSTILE, group: `inbound.${HOSTILE}`, error: HOSTILE }),
      ],
    },
    { name: 'outbound', stages: [stage({ topology: 'outbound', stage: 'retry-1', deadLetter: { topic: 'retry.dlq', records: 1, topicRecords: 3, sharedWith: ['retry-2'] } })] },
  ],
  engines: [
    { engine: 'log', kind: 'kafka', ok: true, latencyMs: 3.21, detail: '1 broker', configured: true },
    { engine: 'store', kind: 'cassandra', ok: false, latencyMs: 3000, error: HOSTILE, configured: true },
    { engine: 'clamd', kind: 'clamd', ok: false, latencyMs: 0, detail: 'not configured', configured: false },
  ],
};

describe('ops page', () => {
  it('escapes text for HTML', () => {
    expect(escapeHtml(`a<b>&"c"'d'`)).toBe('a&#60;b&#62;&#38;&#34;c&#34;&#39;d&#39;');
  });

  it('renders every stage, partition and engine, escaping what came from outside', () => {
    const html = renderOpsPage(SNAPSHOT);
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;');
    const dom = new JSDOM(html);
    const doc = dom.window.document;
    const cells = (id: string) => [...doc.querySelectorAll(`#${id} tbody tr`)].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
    expect(cells('topology-inbound')).toEqual([
      ['parse', 'all of mail.received', '4', '2.3', '—', '2 (parse.dlq)', '12.3', '2.0', '3.3'],
      ['', '0', '4', '2.3', '1.5', '', '', '', ''],
      ['', '1', '0', '0.0', '—', '', '', '', ''],
      [HOSTILE, `error: ${HOSTILE}`, '0', '0.0', '0.0', '—', '0.0', '0.0', '—'],
    ]);
    expect(cells('topology-outbound')[0].slice(0, 1).concat(cells('topology-outbound')[0][5])).toEqual(['retry-1', '1 (of 3 in retry.dlq)']);
    expect(cells('engines')).toEqual([
      ['log', 'kafka', 'up', '3.2', '1 broker'],
      ['store', 'cassandra', 'down', '3000.0', HOSTILE],
      ['clamd', 'clamd', 'not configured', '—', ''],
    ]);
    expect([...doc.querySelectorAll('#engines tbody tr')].map((tr) => tr.className)).toEqual(['up', 'down', 'off']);
    expect(doc.querySelector('#topology-inbound tbody tr td:nth-child(3)')?.className).toBe('behind');
    expect(doc.querySelectorAll('script').length).toBe(1);
    expect(doc.querySelectorAll('link, img, iframe, [src]').length).toBe(0);
  });

  it('says when the log could not be read', () => {
    const doc = new JSDOM(renderOpsPage({ ...SNAPSHOT, logError: `no answer ${HOSTILE}` })).window.document;
    expect(doc.getElementById('status')?.textContent).toBe(`log not read: no answer ${HOSTILE} (figures of 2026-12-07T08:00:00.000Z)`);
    expect(new JSDOM(renderOpsPage(SNAPSHOT)).window.document.getElementById('status')?.textContent).toBe('');
  });

  it('has the page script build the same rows as the server', () => {
    const client = new Function(`${CLIENT_ROWS}; return { stageRows, engineRows };`)() as { stageRows: typeof stageRows; engineRows: typeof engineRows };
    // Through JSON, as the page gets it.
    const parsed = JSON.parse(JSON.stringify(SNAPSHOT)) as OpsSnapshot;
    for (const t of SNAPSHOT.topologies) expect(client.stageRows(parsed, t.name)).toEqual(stageRows(SNAPSHOT, t.name));
    expect(client.engineRows(parsed)).toEqual(engineRows(SNAPSHOT));
  });
});
