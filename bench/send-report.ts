/**
 * The sending bench's figures: per-message latency from the submission `250` to the remote
 * MTA's `250`, delivered rates, and the markdown table (medians over repetitions).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { median } from './report.ts';

/** One message the load client got a 250 for (a line of send-load.py's --per-message file). */
export interface Submitted {
  readonly i: number;
  /** The queue id from the 250 reply: Postfix's queue id, Sluice's ingress id. */
  readonly qid: string | null;
  readonly mid: string;
  readonly rcpt: string;
  /** Wall-clock seconds (time.time()) when MAIL FROM was sent, and when the 250 after DATA came. */
  readonly t_mail: number;
  readonly t_250: number;
}

/** send-load.py's summary line. */
export interface LoadSummary {
  readonly accepted: number;
  readonly failed: number;
  readonly errors_sample: string[];
  readonly t_start: number;
  readonly t_last: number;
  readonly accepted_per_s: number;
  readonly txn_p50_ms: number;
  readonly txn_p99_ms: number;
}

/** What the sending side says about one queued message's delivery. */
export interface Delivery {
  readonly status: string;
  /** Seconds from the sender's arrival time (Postfix: smtpd's MAIL FROM) to the remote's reply. */
  readonly delay?: number;
  /** Wall-clock seconds of the remote's reply, when the sender gives it directly (Sluice). */
  readonly at?: number;
  /** The reply or error, for notes on what was not delivered. */
  readonly response?: string;
}

// Postfix smtp(8): "QID: to=<rcpt>, relay=host[addr]:port, delay=0.123, delays=a/b/c/d, dsn=2.0.0, status=sent (250 …)"
const SMTP_LINE = /postfix-relay\/smtp\[\d+\]: ([0-9A-F]+): to=<[^>]*>,(?: orig_to=<[^>]*>,)? relay=[^,]*, delay=([\d.]+), delays=[^,]*, dsn=[^,]*, status=(\w+)(?: \((.*)\))?/;

/** The relay's outcome per queue id; a later line (a retry) replaces an earlier one. */
export function relayDeliveries(log: string): Map<string, Delivery> {
  const out = new Map<string, Delivery>();
  for (const line of log.split('\n')) {
    const m = SMTP_LINE.exec(line);
    if (m) out.set(m[1], { status: m[3], delay: Number(m[2]), ...(m[4] && m[3] !== 'sent' ? { response: m[4] } : {}) });
  }
  return out;
}

/** Wall-clock seconds of the remote's 250 for a submitted message, or undefined if not delivered. */
export function remoteAcceptedAt(s: Submitted, d: Delivery | undefined): number | undefined {
  if (!d || (d.status !== 'sent' && d.status !== 'delivered')) return undefined;
  if (d.at !== undefined) return d.at;
  // Postfix's delay starts at its arrival time, taken at MAIL FROM: the client sent that command
  // a loopback hop earlier (tens of µs), which this ignores.
  return d.delay !== undefined ? s.t_mail + d.delay : undefined;
}

export function quantile(sorted: readonly number[], q: number): number | undefined {
  if (!sorted.length) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export interface SendFigures {
  readonly delivered: number;
  readonly deliveredPerS?: number;
  /** Submission 250 → remote 250, ms. */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly maxMs?: number;
}

export function sendFigures(summary: LoadSummary, submitted: readonly Submitted[], deliveries: ReadonlyMap<string, Delivery>): SendFigures {
  const latencies: number[] = [];
  let last: number | undefined;
  for (const s of submitted) {
    const at = s.qid === null ? undefined : remoteAcceptedAt(s, deliveries.get(s.qid));
    if (at === undefined) continue;
    latencies.push((at - s.t_250) * 1000);
    last = last === undefined ? at : Math.max(last, at);
  }
  latencies.sort((a, b) => a - b);
  return {
    delivered: latencies.length,
    deliveredPerS: last !== undefined && last > summary.t_start ? latencies.length / (last - summary.t_start) : undefined,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    maxMs: latencies.length ? latencies[latencies.length - 1] : undefined,
  };
}

/** What became of the submitted messages not delivered: e.g. "2 deferred (451 …), 1 unknown". */
export function undeliveredNote(submitted: readonly Submitted[], deliveries: ReadonlyMap<string, Delivery>): string {
  const counts = new Map<string, { n: number; example?: string }>();
  for (const s of submitted) {
    const d = s.qid === null ? undefined : deliveries.get(s.qid);
    if (d && remoteAcceptedAt(s, d) !== undefined) continue;
    const key = d?.status ?? 'no outcome yet';
    const c = counts.get(key) ?? { n: 0 };
    c.n++;
    c.example ??= d?.response;
    counts.set(key, c);
  }
  return [...counts].map(([status, c]) => `${c.n} ${status}${c.example ? ` (${c.example.slice(0, 120)})` : ''}`).join(', ');
}

export type SendServer = 'sluice' | 'postfix';

export interface SendRecord extends SendFigures {
  readonly server: SendServer;
  readonly size: string;
  readonly concurrency: number;
  readonly messages: number;
  readonly rep: number;
  readonly at: string;
  readonly accepted: number;
  readonly failed: number;
  readonly submittedPerS: number;
  readonly clientTxnP50Ms: number;
  readonly clientTxnP99Ms: number;
  /** Server CPU (whole process tree) from the load's start until the last delivery, per message. */
  readonly cpuMsPerMsg?: number;
  /** CPU ms per message of each thread of the server process (main = the main thread; others by thread id), busiest first. */
  readonly threadMsPerMsg?: readonly string[];
  /** Sluice: seconds after the last delivery until its search index held every Sent copy. */
  readonly indexCaughtUpS?: number;
  readonly note?: string;
}

function fmt(x: number | undefined, digits = 0): string {
  return x === undefined ? '–' : x.toFixed(digits);
}

/** One row per load (size × concurrency): Sluice and Postfix side by side, medians over repetitions. */
export function sendTable(records: readonly SendRecord[], sizes: readonly string[], concurrencies: readonly number[]): string {
  const head = [
    '| load | submitted msgs/s Sluice / Postfix | delivered msgs/s Sluice / Postfix | 250→remote 250 p50 ms Sluice / Postfix | p99 ms Sluice / Postfix | CPU ms/msg Sluice / Postfix | delivered ratio |',
    '|---|---|---|---|---|---|---|',
  ];
  const rows: string[] = [];
  for (const size of sizes) {
    for (const c of concurrencies) {
      const of = (server: SendServer) => records.filter((r) => r.server === server && r.size === size && r.concurrency === c);
      const s = of('sluice');
      const p = of('postfix');
      if (!s.length && !p.length) continue;
      const m = (rs: SendRecord[], f: (r: SendRecord) => number | undefined) => median(rs.map(f));
      const pair = (f: (r: SendRecord) => number | undefined, d = 0) => `${fmt(m(s, f), d)} / ${fmt(m(p, f), d)}`;
      const sd = m(s, (r) => r.deliveredPerS);
      const pd = m(p, (r) => r.deliveredPerS);
      rows.push(
        `| ${size}, ${c} connection${c === 1 ? '' : 's'} | ${pair((r) => r.submittedPerS)} | ${pair((r) => r.deliveredPerS)} | ${pair((r) => r.p50Ms, 1)} | ${pair((r) => r.p99Ms, 1)} | ${pair((r) => r.cpuMsPerMsg, 2)} | ${sd !== undefined && pd ? (sd / pd).toFixed(2) : '–'} |`,
      );
    }
  }
  return [...head, ...rows].join('\n');
}

/** CPU seconds of `root` and every live descendant, plus what their reaped children used (Linux /proc). */
export function treeCpuSeconds(root: number, clockTicks: number): number {
  const table = new Map<number, { ppid: number; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // rest[1] = ppid (field 4); utime, stime, cutime, cstime = fields 14..17 = rest[11..14].
      table.set(Number(name), { ppid: Number(rest[1]), ticks: [11, 12, 13, 14].reduce((a, i) => a + Number(rest[i]), 0) });
    } catch {
      // The process ended while we looked.
    }
  }
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of table) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  let ticks = 0;
  const stack = [root];
  const seen = new Set<number>();
  while (stack.length) {
    const pid = stack.pop()!;
    if (seen.has(pid) || !table.has(pid)) continue;
    seen.add(pid);
    ticks += table.get(pid)!.ticks;
    stack.push(...(children.get(pid) ?? []));
  }
  return ticks / clockTicks;
}

/** CPU ticks of each thread of one process (utime + stime, /proc/PID/task/TID/stat), by thread id. */
export function threadTicks(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), Number(rest[11]) + Number(rest[12]));
    } catch {
      // The thread ended while we looked.
    }
  }
  return out;
}
