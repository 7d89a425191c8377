/**
 * Progress of a long import or export: a `cli-progress` bar when the stream is a terminal,
 * otherwise a plain line every few seconds (logs and pipes get no control characters); and the
 * one-line summary printed at the end.
 */
import cliProgress from 'cli-progress';
import type { ExportResult } from './export.ts';
import type { ImportResult } from './import.ts';

export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean };

export interface ProgressReporter {
  update(done: number, total?: number): void;
  /** Ends the bar (or writes the last plain line). */
  stop(): void;
}

export interface ProgressOptions {
  /** What is being done, e.g. `import alice@example.test`. */
  readonly label: string;
  /** Default: standard error. */
  readonly stream?: ProgressStream;
  /** Plain mode: at most one line per this many ms (default 5000). */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

export function createProgress(options: ProgressOptions): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  return stream.isTTY ? barProgress(options.label, stream) : plainProgress(options, stream);
}

function barProgress(label: string, stream: ProgressStream): ProgressReporter {
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(done, total) {
      if (bar === null) {
        const format = total === undefined ? `${label} {value} messages` : `${label} [{bar}] {percentage}% | {value}/{total} messages | ETA {eta_formatted}`;
        bar = new cliProgress.SingleBar({ format, stream, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
        bar.start(total ?? 0, done);
      }
      if (total !== undefined) bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

function plainProgress(options: ProgressOptions, stream: ProgressStream): ProgressReporter {
  const interval = options.intervalMs ?? 5000;
  const now = options.now ?? Date.now;
  let last = now();
  let latest: { done: number; total?: number } | null = null;
  let printed: number | null = null;
  const print = () => {
    if (latest === null || latest.done === printed) return;
    stream.write(`${options.label}: ${describe(latest.done, latest.total)}\n`);
    printed = latest.done;
  };
  return {
    update(done, total) {
      latest = { done, total };
      if (now() - last >= interval) {
        last = now();
        print();
      }
    },
    stop() {
      // The last line only if lines were printed: a short run needs just the summary.
      if (printed !== null) print();
    },
  };
}

function describe(done: number, total?: number): string {
  if (total === undefined || total === 0) return `${done} messages`;
  return `${done}/${total} messages (${Math.floor((done / total) * 100)}%)`;
}

function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `imported 41 messages (INBOX 40, Sent 1), 2 duplicates skipped, 0 failed in 1.3 s`. */
export function formatImportSummary(address: string, result: ImportResult, elapsedMs: number): string {
  const per = Object.entries(result.mailboxes)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  return (
    `imported ${plural(result.imported, 'message')} for ${address}${per ? ` (${per})` : ''}, ` +
    `${plural(result.duplicates, 'duplicate')} skipped, ${result.failed} failed in ${seconds(elapsedMs)}`
  );
}

/** `exported 41 messages from 6 mailboxes (2.1 MB) to out/ in 0.4 s`. */
export function formatExportSummary(address: string, result: ExportResult, out: string, elapsedMs: number): string {
  const mb = (result.bytes / (1024 * 1024)).toFixed(1);
  return `exported ${plural(result.messages, 'message')} of ${address} from ${plural(result.mailboxes, 'mailbox', 'mailboxes')} (${mb} MB) to ${out} in ${seconds(elapsedMs)}`;
}

export function printSummary(line: string, stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(`${line}\n`);
}
