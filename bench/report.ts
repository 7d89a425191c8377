/** The bench's records, and the markdown table made of them (medians over repetitions). */

/** `sluice+scan`: Sluice with clamd and rspamd configured (`--scanners on`); `sluice@engines`: on Kafka, Cassandra, OpenSearch, S3 (`--stack distributed`). */
export type Server = 'sluice' | 'sluice+scan' | 'sluice@engines' | 'postfix-dovecot';

/** One measured run (also one JSON line in bench-results/). */
export interface RunRecord {
  readonly server: Server;
  /** `load`: as fast as the server answers; `half-peak`: paced at half Sluice's peak e2e rate. */
  readonly kind: 'load' | 'half-peak';
  readonly size: string;
  readonly concurrency: number;
  readonly messages: number;
  readonly rep: number;
  readonly at: string;
  readonly accepted: number;
  readonly failed: number;
  readonly acceptedPerS: number;
  /** Sluice: messages / (last needed index seen − load start); Postfix: delivered (IMAP STATUS). */
  readonly e2ePerS?: number;
  /** Sluice only: 250 → searchable, bucket estimates. */
  readonly searchableP50Ms?: number;
  readonly searchableP99Ms?: number;
  /** Client-side DATA → 250 (smtp_load) or MAIL → 250 (paced), ms. */
  readonly clientP50Ms?: number;
  readonly clientP99Ms?: number;
  /** Server CPU (whole process tree) from the load's start to end-to-end completion, per message. */
  readonly cpuMsPerMsg?: number;
  /** `sluice@engines`: each engine process's CPU over the same interval, per message. */
  readonly engineCpuMsPerMsg?: Readonly<Record<string, number>>;
  readonly machineBusyCores?: number;
  readonly targetRate?: number;
  readonly note?: string;
  readonly detail?: unknown;
}

export function median(values: readonly (number | undefined)[]): number | undefined {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function fmt(x: number | undefined, digits = 0): string {
  return x === undefined ? '–' : x.toFixed(digits);
}

function pick(records: readonly RunRecord[], server: Server, kind: RunRecord['kind'], size: string, c: number): RunRecord[] {
  return records.filter((r) => r.server === server && r.kind === kind && r.size === size && r.concurrency === c);
}

/** The table: one row per load (size × concurrency), Sluice and Postfix + Dovecot side by side. */
export function loadTable(records: readonly RunRecord[], sizes: readonly string[], concurrencies: readonly number[]): string {
  const lines = [
    '| load | runs | Sluice accepted msgs/s | Sluice e2e msgs/s | Sluice 250→searchable p50 / p99 ms | Sluice CPU ms/msg | P+D accepted msgs/s | P+D delivered msgs/s | P+D CPU ms/msg | e2e Sluice ÷ P+D |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const size of sizes) {
    for (const c of concurrencies) {
      const s = pick(records, 'sluice', 'load', size, c);
      const p = pick(records, 'postfix-dovecot', 'load', size, c);
      if (!s.length && !p.length) continue;
      const m = (rs: RunRecord[], f: (r: RunRecord) => number | undefined) => median(rs.map(f));
      const sE2e = m(s, (r) => r.e2ePerS);
      const pE2e = m(p, (r) => r.e2ePerS);
      const n = s[0]?.messages ?? p[0]?.messages;
      lines.push(
        `| ${n} × ${size}, c=${c} | ${s.length} + ${p.length} | ${fmt(m(s, (r) => r.acceptedPerS))} | ${fmt(sE2e)} | ` +
          `${fmt(m(s, (r) => r.searchableP50Ms), 1)} / ${fmt(m(s, (r) => r.searchableP99Ms), 1)} | ${fmt(m(s, (r) => r.cpuMsPerMsg), 2)} | ` +
          `${fmt(m(p, (r) => r.acceptedPerS))} | ${fmt(pE2e)} | ${fmt(m(p, (r) => r.cpuMsPerMsg), 2)} | ` +
          `${sE2e !== undefined && pE2e ? (sE2e / pE2e).toFixed(2) : '–'} |`,
      );
    }
  }
  return lines.join('\n');
}

/** The half-peak-rate runs: 250 → searchable when Sluice is not saturated. */
export function halfPeakTable(records: readonly RunRecord[], sizes: readonly string[]): string {
  const lines = [
    '| load | runs | paced at msgs/s | achieved msgs/s | e2e msgs/s | 250→searchable p50 / p99 ms | p99 < 100 ms | Sluice CPU ms/msg |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const size of sizes) {
    const rs = records.filter((r) => r.server === 'sluice' && r.kind === 'half-peak' && r.size === size);
    if (!rs.length) continue;
    const p99 = median(rs.map((r) => r.searchableP99Ms));
    lines.push(
      `| ${rs[0].messages} × ${size}, ${rs[0].concurrency} connections | ${rs.length} | ${fmt(median(rs.map((r) => r.targetRate)))} | ` +
        `${fmt(median(rs.map((r) => r.acceptedPerS)))} | ${fmt(median(rs.map((r) => r.e2ePerS)))} | ` +
        `${fmt(median(rs.map((r) => r.searchableP50Ms)), 1)} / ${fmt(p99, 1)} | ${p99 === undefined ? '–' : p99 < 100 ? 'yes' : 'no'} | ` +
        `${fmt(median(rs.map((r) => r.cpuMsPerMsg)), 2)} |`,
    );
  }
  return lines.join('\n');
}

/** Sluice with the scanners off and on (`--scanners off,on`): what clamd and rspamd cost end to end. */
export function scannersTable(records: readonly RunRecord[], sizes: readonly string[], concurrencies: readonly number[]): string {
  const lines = [
    '| load | runs off + on | e2e msgs/s off | e2e msgs/s on | on ÷ off | 250→searchable p50 / p99 ms off | … on | CPU ms/msg off | CPU ms/msg on (Sluice only) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const size of sizes) {
    for (const c of concurrencies) {
      const off = pick(records, 'sluice', 'load', size, c);
      const on = pick(records, 'sluice+scan', 'load', size, c);
      if (!off.length || !on.length) continue;
      const m = (rs: RunRecord[], f: (r: RunRecord) => number | undefined) => median(rs.map(f));
      const eOff = m(off, (r) => r.e2ePerS);
      const eOn = m(on, (r) => r.e2ePerS);
      lines.push(
        `| ${off[0].messages} × ${size}, c=${c} | ${off.length} + ${on.length} | ${fmt(eOff)} | ${fmt(eOn)} | ` +
          `${eOff && eOn !== undefined ? (eOn / eOff).toFixed(2) : '–'} | ` +
          `${fmt(m(off, (r) => r.searchableP50Ms), 1)} / ${fmt(m(off, (r) => r.searchableP99Ms), 1)} | ` +
          `${fmt(m(on, (r) => r.searchableP50Ms), 1)} / ${fmt(m(on, (r) => r.searchableP99Ms), 1)} | ` +
          `${fmt(m(off, (r) => r.cpuMsPerMsg), 2)} | ${fmt(m(on, (r) => r.cpuMsPerMsg), 2)} |`,
      );
    }
  }
  return lines.join('\n');
}

/** Sluice on the embedded default and on the engines (`--stack embedded,distributed`), side by side. */
export function stacksTable(records: readonly RunRecord[], sizes: readonly string[], concurrencies: readonly number[]): string {
  const engines = [...new Set(records.flatMap((r) => Object.keys(r.engineCpuMsPerMsg ?? {})))].sort();
  const lines = [
    `| load | stack | runs | accepted msgs/s | e2e msgs/s | 250→searchable p50 / p99 ms | Sluice CPU ms/msg |${engines.map((e) => ` ${e} CPU ms/msg |`).join('')}`,
    `|---|---|---|---|---|---|---|${engines.map(() => '---|').join('')}`,
  ];
  for (const size of sizes) {
    for (const c of concurrencies) {
      for (const [server, label] of [['sluice', 'embedded'], ['sluice@engines', 'distributed']] as const) {
        const rs = pick(records, server, 'load', size, c);
        if (!rs.length) continue;
        const m = (f: (r: RunRecord) => number | undefined, d = 0) => fmt(median(rs.map(f)), d);
        lines.push(
          `| ${rs[0].messages} × ${size}, c=${c} | ${label} | ${rs.length} | ${m((r) => r.acceptedPerS)} | ${m((r) => r.e2ePerS)} | ` +
            `${m((r) => r.searchableP50Ms, 1)} / ${m((r) => r.searchableP99Ms, 1)} | ${m((r) => r.cpuMsPerMsg, 2)} |` +
            engines.map((e) => ` ${server === 'sluice' ? '–' : m((r) => r.engineCpuMsPerMsg?.[e], 3)} |`).join(''),
        );
      }
    }
  }
  return lines.join('\n');
}
