/**
 * Step 2 of loading a topology (STYLE.md §3): the shape of the file, as a zod schema. Unknown
 * keys are errors, so a misspelt `deadleter:` is caught instead of silently ignored.
 */
import { z } from 'zod';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const name = z.string().regex(NAME, 'must be letters, digits, ".", "_" or "-"');
const DURATION = /^(\d+)(ms|s|m|h|d|w)$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const topicShape = z.strictObject({
  schema: z.string().min(1),
  key: z.string().min(1),
  partitions: z.number().int().min(1).max(10_000),
  retention: z
    .string()
    .refine((s) => s === 'forever' || DURATION.test(s), 'must be a duration like 30m, 12h, 7d, 2w, or "forever"')
    .optional(),
  replicationFactor: z.number().int().min(1).optional(),
  minInsyncReplicas: z.number().int().min(1).optional(),
  source: z.literal('external').optional(),
  sink: z.literal('external').optional(),
});

const stageShape = z.strictObject({
  name,
  processor: z.string().min(1),
  from: z.string().min(1),
  to: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
  deadLetter: z.string().min(1).optional(),
  retry: z.boolean().optional(),
  /**
   * A timestamp field (ms) of the input record before which it is not processed: the runner
   * holds that record's partition until then (Kafka: pause), the other partitions flow on.
   * Records of one partition must become due in order (e.g. a retry topic with one delay).
   */
  waitUntil: z.string().min(1).optional(),
  /** Overrides the runner's linger for this stage: `0ms` answers single records at once. */
  linger: z.string().refine((s) => DURATION.test(s), 'must be a duration like 0ms or 2ms').optional(),
  config: z.record(z.string(), z.unknown()).nullable().optional(),
});

export const topologyFileShape = z.strictObject({
  name,
  description: z.string().optional(),
  topics: z.record(name, topicShape),
  stages: z.array(stageShape),
});

export type TopologyFile = z.infer<typeof topologyFileShape>;
export type TopicShape = z.infer<typeof topicShape>;
export type StageShape = z.infer<typeof stageShape>;

/** `7d` → 604800000; `forever` → -1 (Kafka's "no time limit"). */
export function parseRetention(text: string): number {
  if (text === 'forever') return -1;
  const m = DURATION.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

/** `2ms` → 2. */
export function parseDurationText(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

/** The inverse of `parseRetention`, in the largest unit up to days that divides it exactly. */
export function formatRetention(ms: number): string {
  if (ms < 0) return 'forever';
  for (const unit of ['d', 'h', 'm', 's']) {
    const size = UNIT_MS[unit];
    if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
