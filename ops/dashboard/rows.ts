/**
 * The tables of the /ops page as rows of text cells, from a snapshot. The server renders them
 * into the first HTML (page.ts); the page's script builds the same rows from /ops.json
 * (`CLIENT_ROWS`, the same logic in plain JavaScript), so both show the same thing.
 */
import type { OpsSnapshot } from './snapshot.ts';

export interface Row {
  /** CSS classes of the row: `stage` (a stage's totals), `part` (one partition), `up`, `down`, `off`. */
  readonly className: string;
  readonly cells: readonly string[];
  /** CSS class per cell, e.g. `behind` for a lag above zero. */
  readonly cellClasses?: readonly string[];
}

export const STAGE_COLUMNS = ['stage', 'partition', 'lag (records)', 'lag (s)', 'committed/s', 'dead letters', 'records/s 10 s', 'records/s 1 min', 'batch ms (1 min)'] as const;
export const ENGINE_COLUMNS = ['engine', 'kind', 'status', 'check ms', 'detail'] as const;

export function num(n: number | null | undefined, digits = 0): string {
  return n === null || n === undefined ? '—' : n.toFixed(digits);
}

export function stageRows(snapshot: OpsSnapshot, topology: string): Row[] {
  const rows: Row[] = [];
  for (const s of snapshot.topologies.find((t) => t.name === topology)?.stages ?? []) {
    const d = s.deadLetter;
    const dead = !d ? '—' : d.sharedWith.length ? `${d.records} (of ${d.topicRecords} in ${d.topic})` : `${d.records} (${d.topic})`;
    const rates = s.partitions.map((p) => p.committedPerSecond);
    const committed = rates.some((r) => r === null) ? null : rates.reduce<number>((a, r) => a + (r ?? 0), 0);
    const behind = s.lagRecords > 0 ? 'behind' : '';
    rows.push({
      className: 'stage',
      cells: [s.stage, s.error ? `error: ${s.error}` : `all of ${s.from}`, num(s.lagRecords), num(s.lagSeconds, 1), num(committed, 1), dead, num(s.throughput.last10s.recordsPerSecond, 1), num(s.throughput.last1m.recordsPerSecond, 1), num(s.throughput.last1m.batchMs, 1)],
      cellClasses: ['', s.error ? 'down' : '', behind, behind, '', s.deadLetter && s.deadLetter.records > 0 ? 'behind' : '', '', '', ''],
    });
    for (const p of s.partitions) {
      const pb = p.lagRecords > 0 ? 'behind' : '';
      rows.push({
        className: 'part',
        cells: ['', String(p.partition), num(p.lagRecords), num(p.lagSeconds, 1), num(p.committedPerSecond, 1), '', '', '', ''],
        cellClasses: ['', '', pb, pb, '', '', '', '', ''],
      });
    }
  }
  return rows;
}

export function engineRows(snapshot: OpsSnapshot): Row[] {
  return snapshot.engines.map((e) => ({
    className: !e.configured ? 'off' : e.ok ? 'up' : 'down',
    cells: [e.engine, e.kind, !e.configured ? 'not configured' : e.ok ? 'up' : 'down', e.configured ? num(e.latencyMs, 1) : '—', (e.ok ? e.detail : e.error) ?? ''],
  }));
}

/** `stageRows` and `engineRows` for the page's script (kept in step with the above by ops/dashboard/page.test.ts). */
export const CLIENT_ROWS = String.raw`
function num(n, d) { return n === null || n === undefined ? '—' : n.toFixed(d || 0); }
function stageRows(snapshot, topology) {
  const rows = [];
  const t = snapshot.topologies.find((t) => t.name === topology);
  for (const s of t ? t.stages : []) {
    const d = s.deadLetter;
    const dead = !d ? '—' : d.sharedWith.length ? d.records + ' (of ' + d.topicRecords + ' in ' + d.topic + ')' : d.records + ' (' + d.topic + ')';
    const rates = s.partitions.map((p) => p.committedPerSecond);
    const committed = rates.some((r) => r === null) ? null : rates.reduce((a, r) => a + (r || 0), 0);
    const behind = s.lagRecords > 0 ? 'behind' : '';
    rows.push({
      className: 'stage',
      cells: [s.stage, s.error ? 'error: ' + s.error : 'all of ' + s.from, num(s.lagRecords), num(s.lagSeconds, 1), num(committed, 1), dead, num(s.throughput.last10s.recordsPerSecond, 1), num(s.throughput.last1m.recordsPerSecond, 1), num(s.throughput.last1m.batchMs, 1)],
      cellClasses: ['', s.error ? 'down' : '', behind, behind, '', s.deadLetter && s.deadLetter.records > 0 ? 'behind' : '', '', '', ''],
    });
    for (const p of s.partitions) {
      const pb = p.lagRecords > 0 ? 'behind' : '';
      rows.push({
        className: 'part',
        cells: ['', String(p.partition), num(p.lagRecords), num(p.lagSeconds, 1), num(p.committedPerSecond, 1), '', '', '', ''],
        cellClasses: ['', '', pb, pb, '', '', '', '', ''],
      });
    }
  }
  return rows;
}
function engineRows(snapshot) {
  return snapshot.engines.map((e) => ({
    className: !e.configured ? 'off' : e.ok ? 'up' : 'down',
    cells: [e.engine, e.kind, !e.configured ? 'not configured' : e.ok ? 'up' : 'down', e.configured ? num(e.latencyMs, 1) : '—', (e.ok ? e.detail : e.error) || ''],
  }));
}
`;
