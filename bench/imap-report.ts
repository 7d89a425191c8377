/** The IMAP bench's records and the markdown table made of them (medians over repetitions). */
import { median } from './report.ts';

export type ImapServer = 'sluice' | 'dovecot';
export const IMAP_OPS = ['login', 'fetch_env', 'fetch_body', 'search', 'store'] as const;
export type ImapOp = (typeof IMAP_OPS)[number];

export const OP_LABEL: Record<ImapOp, string> = {
  login: 'connect + LOGIN + SELECT',
  fetch_env: 'FETCH 1:* (FLAGS ENVELOPE)',
  fetch_body: 'UID FETCH n (BODY.PEEK[])',
  search: 'SEARCH TEXT',
  store: 'UID STORE n ±FLAGS (\\Seen)',
};

/** One imap_load.py phase (one JSON line in bench-results/imap-<stamp>.jsonl). */
export interface ImapRecord {
  readonly server: ImapServer;
  readonly op: ImapOp;
  readonly clients: number;
  readonly rep: number;
  readonly at: string;
  readonly count: number;
  readonly opsPerS: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly errors: number;
  readonly serverCores?: number;
  readonly clientCores?: number;
  readonly machineBusyCores?: number;
  readonly note?: string;
  /** imap_load.py's whole record. */
  readonly detail?: unknown;
}

/** The fields of imap_load.py's record that the bench reads. */
export interface ImapLoadRecord {
  readonly ops: Record<string, { count: number; ops_per_s: number; p50_ms?: number; p99_ms?: number; errors: number } | undefined>;
  readonly cpu: { server_cores?: number; client_cores?: number; machine_busy_cores?: number };
  readonly errors_sample: string[];
}

export function toRecord(server: ImapServer, op: ImapOp, clients: number, rep: number, rec: ImapLoadRecord): ImapRecord {
  const s = rec.ops[op];
  return {
    server, op, clients, rep, at: new Date().toISOString(),
    count: s?.count ?? 0, opsPerS: s?.ops_per_s ?? 0, p50Ms: s?.p50_ms, p99Ms: s?.p99_ms, errors: s?.errors ?? 0,
    serverCores: rec.cpu.server_cores, clientCores: rec.cpu.client_cores, machineBusyCores: rec.cpu.machine_busy_cores,
    note: rec.errors_sample.length ? rec.errors_sample.join(' | ').slice(0, 500) : undefined,
    detail: rec,
  };
}

function fmt(x: number | undefined, digits = 0): string {
  return x === undefined ? '–' : x.toFixed(digits);
}

/** Fewer digits for big numbers, more for small latencies. */
function ms(x: number | undefined): string {
  return x === undefined ? '–' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
}

interface Cell {
  readonly runs: number;
  readonly opsPerS?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly errors: number;
  readonly serverCores?: number;
}

function cell(records: readonly ImapRecord[], server: ImapServer, op: ImapOp, clients: number): Cell {
  const rs = records.filter((r) => r.server === server && r.op === op && r.clients === clients);
  return {
    runs: rs.length,
    opsPerS: median(rs.map((r) => r.opsPerS)),
    p50Ms: median(rs.map((r) => r.p50Ms)),
    p99Ms: median(rs.map((r) => r.p99Ms)),
    errors: rs.reduce((n, r) => n + r.errors, 0),
    serverCores: median(rs.map((r) => r.serverCores)),
  };
}

/** One row per operation × client count: Sluice and Dovecot side by side, and the throughput verdict. */
export function imapTable(records: readonly ImapRecord[], ops: readonly ImapOp[], clients: readonly number[]): string {
  const lines = [
    '| operation | clients | runs | Sluice ops/s | Sluice p50 / p99 ms | Sluice cores | Dovecot ops/s | Dovecot p50 / p99 ms | Dovecot cores | ops/s Sluice ÷ Dovecot | ≥ Dovecot |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const op of ops) {
    for (const c of clients) {
      const s = cell(records, 'sluice', op, c);
      const d = cell(records, 'dovecot', op, c);
      if (!s.runs && !d.runs) continue;
      const ratio = s.opsPerS !== undefined && d.opsPerS ? s.opsPerS / d.opsPerS : undefined;
      const err = (x: Cell) => (x.errors ? ` (${x.errors} errors)` : '');
      lines.push(
        `| ${OP_LABEL[op]} | ${c} | ${s.runs} + ${d.runs} | ${fmt(s.opsPerS)}${err(s)} | ${ms(s.p50Ms)} / ${ms(s.p99Ms)} | ${fmt(s.serverCores, 2)} | ` +
          `${fmt(d.opsPerS)}${err(d)} | ${ms(d.p50Ms)} / ${ms(d.p99Ms)} | ${fmt(d.serverCores, 2)} | ${fmt(ratio, 2)} | ${ratio === undefined ? '–' : ratio >= 1 ? 'yes' : '**no**'} |`,
      );
    }
  }
  return lines.join('\n');
}

/** The issue's targets: ≥ Dovecot's ops/s on every row; Sluice SEARCH TEXT p99 < 10 ms. */
export function verdicts(records: readonly ImapRecord[], ops: readonly ImapOp[], clients: readonly number[]): string[] {
  const out: string[] = [];
  const behind: string[] = [];
  let compared = 0;
  for (const op of ops) {
    for (const c of clients) {
      const s = cell(records, 'sluice', op, c).opsPerS;
      const d = cell(records, 'dovecot', op, c).opsPerS;
      if (s === undefined || !d) continue;
      compared++;
      if (s < d) behind.push(`${OP_LABEL[op]} at ${c} (${(s / d).toFixed(2)}×)`);
    }
  }
  if (compared) out.push(`Throughput ≥ Dovecot on every row: ${behind.length ? `**no** — behind on ${behind.join('; ')}` : `yes (${compared} of ${compared})`}`);
  if (ops.includes('search')) {
    for (const c of clients) {
      const p99 = cell(records, 'sluice', 'search', c).p99Ms;
      if (p99 !== undefined) out.push(`Sluice SEARCH TEXT p99 < 10 ms at ${c} client${c > 1 ? 's' : ''}: ${p99 < 10 ? 'yes' : '**no**'} (${ms(p99)} ms)`);
    }
  }
  return out;
}
