/**
 * Reading Sluice's `GET /metrics` (Prometheus text format) for the benchmark: one counter's
 * value, one histogram's cumulative buckets, and quantiles of the observations made between two
 * scrapes, estimated from bucket counts the way Prometheus' `histogram_quantile` does (linear
 * interpolation inside the bucket that holds the rank).
 */

export interface Bucket {
  /** Upper bound in the metric's unit (seconds); `Infinity` for `+Inf`. */
  readonly le: number;
  /** Cumulative count of observations ≤ `le`. */
  readonly count: number;
}

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    out.push({ name: m[1], labels, value: parseValue(m[3]) });
  }
  return out;
}

function matches(sample: Sample, name: string, labels: Readonly<Record<string, string>>): boolean {
  return sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v);
}

/** Sum of the samples of `name` whose labels include `labels` (0 if none yet). */
export function counterValue(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  return parseSamples(text)
    .filter((s) => matches(s, name, labels))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Cumulative buckets of histogram `name` (without `_bucket`), sorted by `le`; [] if absent. */
export function histogramBuckets(text: string, name: string, labels: Readonly<Record<string, string>> = {}): Bucket[] {
  return parseSamples(text)
    .filter((s) => matches(s, `${name}_bucket`, labels) && s.labels.le !== undefined)
    .map((s) => ({ le: parseValue(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
}

/** Buckets of the observations made between two scrapes (`after` − `before`, per bound). */
export function bucketDelta(before: readonly Bucket[], after: readonly Bucket[]): Bucket[] {
  const old = new Map(before.map((b) => [b.le, b.count]));
  return after.map((b) => ({ le: b.le, count: b.count - (old.get(b.le) ?? 0) }));
}

/**
 * The q-quantile (0 < q < 1) of the observations in `buckets`, like Prometheus'
 * `histogram_quantile`: find the bucket holding rank q·total, interpolate linearly between its
 * lower and upper bound (the first bucket's lower bound is 0). If the rank falls in the `+Inf`
 * bucket, the answer is the highest finite bound (a lower bound of the truth). NaN if empty.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number {
  const total = buckets.length ? buckets[buckets.length - 1].count : 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lower;
      const inBucket = b.count - below;
      return inBucket > 0 ? lower + ((b.le - lower) * (rank - below)) / inBucket : b.le;
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}
