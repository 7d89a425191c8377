/**
 * The ops dashboard on a running server (embedded engines), over real HTTP: a stage that is
 * behind (virus, with `scan.clamd` pointing at a closed port, so it retries and holds its mail
 * in the log) shows its lag on /ops.json and /metrics; a record `parse` cannot process is
 * counted as a dead letter; clamd shows red, the embedded engines green; `curl /ops` gets the
 * HTML page with the stage names.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { JSDOM } from 'jsdom';
import { freePort, provision, startSluice, tempDir, waitFor, type RunningSluice } from './harness/server.ts';
import { metricSum, scrape } from './harness/inspect.ts';
import { EmbeddedLog } from '../connectors/log/embedded.ts';
import { schemaType } from '../schemas/registry.ts';
import type { MailReceived } from '../schemas/types.ts';
import type { OpsSnapshot, StageSnapshot } from '../ops/dashboard/snapshot.ts';

const run = promisify(execFile);
const USER = 'ops@sluice.test';
const COUNT = 5;

async function opsJson(port: number): Promise<OpsSnapshot> {
  const res = await fetch(`http://127.0.0.1:${port}/ops.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  return (await res.json()) as OpsSnapshot;
}

function stage(snapshot: OpsSnapshot, topology: string, name: string): StageSnapshot {
  const found = snapshot.topologies.find((t) => t.name === topology)?.stages.find((s) => s.stage === name);
  if (!found) throw new Error(`no stage ${topology}/${name} in /ops.json`);
  return found;
}

describe('/ops and /ops.json on a running server', () => {
  const dataDir = tempDir();
  let server: RunningSluice;
  let clamdPort: number;

  beforeAll(async () => {
    await provision(dataDir, 'sluice.test', [USER]);
    clamdPort = await freePort(); // nothing listens: clamd is "down"
    server = await startSluice({ dataDir, env: { SLUICE_SCAN_CLAMD: `127.0.0.1:${clamdPort}` } });

    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true });
    for (let i = 0; i < COUNT; i++) {
      await transport.sendMail({ from: 'a@client.test', to: USER, subject: `held ${i}`, text: `message ${i}`, messageId: `<held-${i}@client.test>` });
    }
    transport.close();

    // A mail.received record whose raw message is not in the blob store: parse dead-letters it.
    const raw = Buffer.from('Subject: no blob\r\n\r\nmissing\r\n');
    const record: MailReceived = {
      ingressId: 'ops-poison-1', userId: USER, recipient: USER, mailFrom: 'a@client.test', source: 'smtp', remoteAddress: '127.0.0.1',
      helo: 'client.test', receivedAt: Date.now(), rawBlob: createHash('sha256').update(raw).digest('hex'), size: raw.length, mailbox: 'INBOX', flags: [],
    };
    const log = new EmbeddedLog({ path: join(dataDir, 'log.db') });
    await log.produce([{ topic: 'mail.received', key: USER, value: schemaType('MailReceived').toBuffer(record) }]);
    await log.close();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('shows the held stage behind, per partition, and the dead letter, in /ops.json', async () => {
    const snapshot = await waitFor('virus behind and the dead letter counted', async () => {
      const s = await opsJson(server.httpPort);
      return stage(s, 'inbound', 'virus').lagRecords >= COUNT && stage(s, 'inbound', 'parse').deadLetter?.records === 1 ? s : undefined;
    }, 60_000);

    const virus = stage(snapshot, 'inbound', 'virus');
    expect(virus.group).toBe('inbound.virus');
    expect(virus.partitions.length).toBeGreaterThan(0);
    expect(virus.partitions.reduce((sum, p) => sum + p.lagRecords, 0)).toBe(virus.lagRecords);
    const held = virus.partitions.filter((p) => p.lagRecords > 0);
    expect(held.length).toBe(1); // one user: one partition
    expect(held[0].lagSeconds).toBeGreaterThan(0);
    expect(held[0].end - held[0].committed).toBe(held[0].lagRecords);
    expect(virus.lagSeconds).toBe(held[0].lagSeconds);

    const parse = stage(snapshot, 'inbound', 'parse');
    expect(parse.deadLetter).toEqual({ topic: 'parse.dlq', records: 1, topicRecords: 1, sharedWith: [] });
    expect(parse.lagRecords).toBe(0);
    // parse ran here: its throughput over the last minute counts the messages and the dead letter.
    expect(parse.throughput.last1m.recordsPerSecond * 60).toBeGreaterThanOrEqual(COUNT + 1);
    expect(parse.throughput.last1m.batches).toBeGreaterThan(0);
    expect(parse.throughput.last1m.batchMs).toBeGreaterThan(0);
    expect(stage(snapshot, 'outbound', 'retry-1').deadLetter?.sharedWith).toEqual(['retry-2', 'retry-3', 'retry-4', 'retry-5']);
    expect(snapshot.notes.throughput).toMatch(/this process/);
    expect(snapshot.notes.lag).toMatch(/cluster-wide/);
  });

  it('measures committed offsets per second between reads', async () => {
    const before = stage(await opsJson(server.httpPort), 'inbound', 'parse');
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true });
    await transport.sendMail({ from: 'a@client.test', to: USER, subject: 'more', text: 'more', messageId: '<more@client.test>' });
    transport.close();
    await new Promise((r) => setTimeout(r, 2_000));
    const snapshot = await waitFor('parse caught up', async () => {
      const s = await opsJson(server.httpPort);
      return stage(s, 'inbound', 'parse').lagRecords === 0 ? s : undefined;
    });
    const parse = stage(snapshot, 'inbound', 'parse');
    const moved = parse.partitions.find((p) => p.committed > before.partitions[p.partition].committed);
    expect(moved?.committedPerSecond).toBeGreaterThan(0);
    for (const p of stage(snapshot, 'inbound', 'virus').partitions) expect(p.committedPerSecond).toBe(0); // held: nothing committed
  });

  it('reports the embedded engines up and clamd down, rspamd not configured', async () => {
    const { engines } = await opsJson(server.httpPort);
    const by = Object.fromEntries(engines.map((e) => [e.engine, e]));
    expect(by.log).toMatchObject({ kind: 'embedded', ok: true, configured: true });
    expect(by.store).toMatchObject({ kind: 'sqlite', ok: true });
    expect(by.search).toMatchObject({ kind: 'sqlite', ok: true });
    expect(by.blobs).toMatchObject({ kind: 'files', ok: true });
    expect(by.clamd).toMatchObject({ kind: 'clamd', ok: false, configured: true });
    expect(by.clamd.error).toMatch(/ECONNREFUSED/);
    expect(by.rspamd).toMatchObject({ configured: false, ok: false });
    for (const e of engines) expect(e.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('has the same numbers on /metrics', async () => {
    const snapshot = await opsJson(server.httpPort);
    const text = await scrape(server.httpPort);
    const virus = stage(snapshot, 'inbound', 'virus');
    expect(metricSum(text, 'sluice_consumer_lag_records', { stage: 'virus', group: 'inbound.virus' })).toBe(virus.lagRecords);
    const held = virus.partitions.find((p) => p.lagRecords > 0)!;
    expect(metricSum(text, 'sluice_consumer_lag_records', { group: 'inbound.virus', topic: held.topic, partition: String(held.partition) })).toBe(held.lagRecords);
    expect(metricSum(text, 'sluice_consumer_lag_seconds', { group: 'inbound.virus', partition: String(held.partition) })).toBeGreaterThan(0);
    expect(metricSum(text, 'sluice_consumer_committed_offset', { group: 'inbound.virus', partition: String(held.partition) })).toBe(held.committed);
    expect(metricSum(text, 'sluice_dead_letter_records', { topic: 'parse.dlq' })).toBe(1);
    expect(text).toMatch(/^sluice_engine_up\{engine="clamd",kind="clamd"\} 0$/m);
    for (const [engine, kind] of [['log', 'embedded'], ['store', 'sqlite'], ['search', 'sqlite'], ['blobs', 'files']]) {
      expect(text).toContain(`sluice_engine_up{engine="${engine}",kind="${kind}"} 1`);
      expect(text).toMatch(new RegExp(`^sluice_engine_check_seconds\\{engine="${engine}",kind="${kind}"\\} [0-9.e-]+$`, 'm'));
    }
    expect(text).not.toContain('engine="rspamd"');
    expect(metricSum(text, 'sluice_stage_records_total', { stage: 'parse' })).toBeGreaterThanOrEqual(COUNT + 1);
  });

  it('serves /ops as an HTML page (curl) with the stages, partitions and engines', async () => {
    const { stdout } = await run('curl', ['-sS', '-D', '-', `http://127.0.0.1:${server.httpPort}/ops`]);
    const [head, html] = stdout.split('\r\n\r\n', 2);
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toMatch(/content-type: text\/html; charset=utf-8/i);
    expect(html).toMatch(/^<!doctype html>/);
    for (const name of ['parse', 'spam', 'virus', 'split-attachments', 'store', 'index', 'push', 'prepare', 'deliver', 'retry-1']) {
      expect(html).toContain(`<td class="">${name}</td>`);
    }
    expect(html).toContain('<table id="topology-inbound">');
    expect(html).toContain('<table id="topology-outbound">');
    expect(html).toMatch(/<tr class="down"><td class="">clamd<\/td>/);
    expect(html).toMatch(/<tr class="up"><td class="">log<\/td><td class="">embedded<\/td>/);
    expect(html).toContain('1 (parse.dlq)');
    expect(html).toContain('0 (of 0 in retry.dlq)');
    expect(html).toContain("fetch('ops.json'");
    expect(html).not.toMatch(/<(link|img|iframe)\b|src=|https?:\/\//i); // no external assets
  });

  it('refreshes the page live from /ops.json (its script run by jsdom, fetching over real HTTP)', async () => {
    const url = `http://127.0.0.1:${server.httpPort}/ops`;
    const html = await (await fetch(url)).text();
    const dom = new JSDOM(html, {
      url,
      runScripts: 'dangerously',
      beforeParse(window) {
        // jsdom has no fetch: Node's, resolving the page's relative URL as a browser would.
        Object.assign(window, { fetch: (input: string, init?: RequestInit) => fetch(new URL(input, url), init) });
      },
    });
    try {
      const doc = dom.window.document;
      const virusLag = () => {
        const row = [...doc.querySelectorAll('#topology-inbound tbody tr.stage')].find((tr) => tr.querySelector('td')?.textContent === 'virus');
        return Number(row?.querySelectorAll('td')[2].textContent);
      };
      const before = virusLag();
      const at = doc.getElementById('at')?.textContent;
      expect(before).toBeGreaterThanOrEqual(COUNT);
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.smtpPort, secure: false, ignoreTLS: true });
      await transport.sendMail({ from: 'a@client.test', to: USER, subject: 'live', text: 'live', messageId: '<live@client.test>' });
      transport.close();
      await waitFor('the page shows the new lag', async () => virusLag() === before + 1, 20_000);
      expect(doc.getElementById('at')?.textContent).not.toBe(at);
      expect(doc.getElementById('status')?.textContent).toBe('');
      expect(doc.querySelector('#engines tr.down td')?.textContent).toBe('clamd');
    } finally {
      dom.window.close();
    }
  });
});
