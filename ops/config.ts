/**
 * Configuration: defaults, then the YAML file (`--config`), then `SLUICE_*` environment
 * variables, then command-line options; validated once at start and frozen.
 *
 * Every leaf key has an environment variable: the path in UPPER_SNAKE_CASE after `SLUICE_`,
 * e.g. `listen.imap` → `SLUICE_LISTEN_IMAP`, `smtp.maxSize` → `SLUICE_SMTP_MAX_SIZE`; lists
 * are comma-separated. The engines (`engines.store|search|blobs|log`, each `{ kind, … }`) are
 * opened by `open-engines.ts`; their variables are `SLUICE_ENGINES_<CONCERN>_<OPTION>`.
 */
import { readFileSync, existsSync } from 'node:fs';
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseDuration, parseSize } from './units.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = resolve(here, '..');

const size = z.union([z.number().int().nonnegative(), z.string()]).transform((v, ctx) => {
  try {
    return parseSize(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});
const duration = z.union([z.number().int().nonnegative(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected host:port');

const bool = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .transform((v) => v === true || v === 'true');
const count = z.coerce.number().int().nonnegative();

/**
 * Which engine serves each concern (DESIGN.md §1.4): the embedded default, or a distributed
 * engine with its address. One key per concern, each `{ kind, …that kind's options }`: a new
 * engine is one more member of its union here and one more case in `ops/engines.ts`.
 */
const replication = z.union([
  z.record(z.string(), z.coerce.number().int().positive()),
  // From the environment: `dc1:3,dc2:3`.
  z.string().transform((v, ctx) => {
    const out: Record<string, number> = {};
    for (const pair of v.split(',').map((s) => s.trim()).filter(Boolean)) {
      const m = /^([^:\s]+):(\d+)$/.exec(pair);
      if (!m || Number(m[2]) < 1) {
        ctx.addIssue({ code: 'custom', message: `expected dc:replicas[,dc:replicas…], not ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      out[m[1]] = Number(m[2]);
    }
    return out;
  }),
]);
/** The error of an engine key without a known `kind`, e.g. `engines.store.kind: one of sqlite, cassandra`. */
const kindError = (kinds: readonly string[]) => ({
  error: (issue: { code?: string }) => (issue.code === 'invalid_union' ? `one of ${kinds.join(', ')} (an engine's options need its kind)` : undefined),
});
const storeEngine = z.discriminatedUnion('kind', [
  /** `mail.db` in the data folder. */
  z.object({ kind: z.literal('sqlite') }).strict(),
  z
    .object({
      kind: z.literal('cassandra'),
      contactPoints: z.array(hostPort).min(1),
      localDataCenter: z.string().min(1).default('datacenter1'),
      // CQL identifiers unquoted: letters, digits, underscores, at most 48.
      keyspace: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,47}$/, 'a keyspace name: a letter, then letters, digits or _ (at most 48)').default('sluice'),
      /** Replicas per data center of a keyspace that does not exist yet (NetworkTopologyStrategy); default 1 in localDataCenter. */
      replication: replication.optional(),
    })
    .strict(),
], kindError(['sqlite', 'cassandra']));
const searchEngine = z.discriminatedUnion('kind', [
  /** `search.db` (FTS5) in the data folder. */
  z.object({ kind: z.literal('sqlite') }).strict(),
  z
    .object({
      kind: z.literal('opensearch'),
      node: z.url(),
      index: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,254}$/, 'an index name: lowercase letters, digits, _ . -').default('sluice-mail'),
      /** Primary shards and replicas of an index that does not exist yet. */
      shards: z.coerce.number().int().positive().default(1),
      replicas: count.default(0),
    })
    .strict(),
], kindError(['sqlite', 'opensearch']));
const blobEngine = z.discriminatedUnion('kind', [
  /** `blobs.db` (up to 1 MiB) and `blobs/` in the data folder. */
  z.object({ kind: z.literal('files') }).strict(),
  z
    .object({
      kind: z.literal('s3'),
      endpoint: z.url(),
      region: z.string().min(1).default('us-east-1'),
      bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name: 3–63 lowercase letters, digits, . -'),
      accessKeyId: z.string().min(1),
      secretAccessKey: z.string().min(1),
      prefix: z.string().default(''),
      /** Path-style addressing (endpoint/bucket/key), which versitygw and MinIO need. */
      forcePathStyle: bool.default(true),
    })
    .strict(),
], kindError(['files', 's3']));
const logEngine = z.discriminatedUnion('kind', [
  /** `log.db` in the data folder. */
  z.object({ kind: z.literal('embedded') }).strict(),
  z
    .object({
      kind: z.literal('kafka'),
      /** Bootstrap brokers. */
      brokers: z.array(hostPort).min(1),
      clientId: z.string().min(1).default('sluice'),
      /** Put before every topic and consumer group name: several installations (or test runs) share a cluster. */
      topicPrefix: z.string().regex(/^[A-Za-z0-9._-]*$/, 'topic name characters: letters, digits, . _ -').default(''),
      /**
       * Consumer groups (several `stages` processes share a stage's partitions): a process that
       * stops heartbeating for `sessionTimeout` loses its partitions to the others; a heartbeat
       * every `heartbeatInterval`; members have `rebalanceTimeout` to rejoin in a rebalance.
       */
      sessionTimeout: duration.pipe(z.number().min(1000, 'at least 1s')).default(10_000),
      heartbeatInterval: duration.pipe(z.number().min(100, 'at least 100ms')).default(1_000),
      rebalanceTimeout: duration.pipe(z.number().min(1000, 'at least 1s')).default(20_000),
      /** An open transaction of a killed process is aborted by the brokers after this long. */
      transactionTimeout: duration.pipe(z.number().min(1000, 'at least 1s')).default(10_000),
    })
    .strict()
    .refine((e) => e.heartbeatInterval <= e.sessionTimeout && e.sessionTimeout <= e.rebalanceTimeout, {
      message: 'heartbeatInterval ≤ sessionTimeout ≤ rebalanceTimeout',
    }),
], kindError(['embedded', 'kafka']));

/** Keys of the engines, for the environment: every option of every kind. */
const ENGINE_KEYS: readonly (readonly string[])[] = [
  ...[storeEngine, searchEngine, blobEngine, logEngine].flatMap((union, i) => {
    const name = ['store', 'search', 'blobs', 'log'][i];
    const keys = new Set(union.options.flatMap((o) => Object.keys(o.shape)));
    return [...keys].map((k) => ['engines', name, k]);
  }),
];
/** Keys whose environment value is a comma-separated list. */
const LIST_KEYS = new Set(['roles', 'dns.servers', 'outbound.retrySchedule', 'engines.store.contactPoints', 'engines.log.brokers']);

/**
 * What one `sluice serve` process runs (`roles`, `--roles`, `SLUICE_ROLES`): `ingress` the SMTP MX
 * and submission listeners, `stages` the topology runner (and the log's retention, the queue's
 * metrics), `access` IMAP and POP3. HTTP (`/metrics`, health) runs in every role.
 */
export const ROLE_NAMES = ['ingress', 'stages', 'access'] as const;
export type Role = (typeof ROLE_NAMES)[number];

/** A list of roles, from YAML (a list or a comma-separated string) or the environment: known names, each once, in ROLE_NAMES order. */
const roles = z
  .union([z.array(z.string()), z.string().transform((v) => v.split(','))])
  .transform((names, ctx): Role[] => {
    const given = names.map((n) => n.trim()).filter(Boolean);
    const unknown = given.filter((n) => !(ROLE_NAMES as readonly string[]).includes(n));
    if (unknown.length > 0 || given.length === 0) {
      const what = unknown.length > 0 ? `unknown role${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}` : 'no role given';
      ctx.addIssue({ code: 'custom', message: `${what}: expected one or more of ${ROLE_NAMES.join(', ')} (comma-separated)` });
      return z.NEVER;
    }
    return ROLE_NAMES.filter((r) => given.includes(r));
  });

export const LISTENER_NAMES = ['smtp', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s', 'http'] as const;
export type ListenerName = (typeof LISTENER_NAMES)[number];

const configSchema = z
  .object({
    hostname: z.string().min(1).default('localhost'),
    /** A local user that receives mail for postmaster@<every local domain> (RFC 5321 §4.5.1). */
    postmaster: z.string().optional(),
    dataDir: z.string().default('./data'),
    /** What this process runs (ROLE_NAMES); all three by default. Apart, they need a shared log (engines.log kind kafka). */
    roles: roles.default([...ROLE_NAMES]),
    listen: z
      .object({
        smtp: hostPort.default('0.0.0.0:2525'),
        submission: hostPort.default('0.0.0.0:2587'),
        submissions: hostPort.default('0.0.0.0:2465'),
        imap: hostPort.default('0.0.0.0:2143'),
        imaps: hostPort.default('0.0.0.0:2993'),
        pop3: hostPort.default('0.0.0.0:2110'),
        pop3s: hostPort.default('0.0.0.0:2995'),
        http: hostPort.default('127.0.0.1:8080'),
      })
      .strict()
      .prefault({}),
    smtp: z
      .object({
        maxSize: size.default(50 * 1024 * 1024),
        maxRecipients: z.coerce.number().int().positive().default(100),
        idleTimeout: duration.default(300_000),
        /** Pause before the 220 greeting in which early talkers are refused (RFC 5321 §4.3.1). */
        greetingDelay: duration.default(0),
        /** Reverse DNS of each client for the Received: header (off by default: it asks the system's resolver). */
        reverseLookup: z
          .union([z.boolean(), z.enum(['true', 'false'])])
          .transform((v) => v === true || v === 'true')
          .default(false),
      })
      .strict()
      .prefault({}),
    /** SMTP submission (listen.submission, listen.submissions); size and idle timeout as smtp.*. */
    submission: z
      .object({
        maxRecipients: z.coerce.number().int().positive().default(100),
        /** Per-user sending limits (ingress/submission-limits.ts): past either, 451 4.7.1. 0 = no limit. */
        rateLimit: z
          .object({
            messages: z.coerce.number().int().nonnegative().default(500),
            recipients: z.coerce.number().int().nonnegative().default(2000),
            window: duration.pipe(z.number().min(1000, 'at least 1s')).default(3_600_000),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /** Logins of IMAP and POP3 (SMTP submission later). */
    auth: z
      .object({
        /** Allow LOGIN / USER+PASS / AUTH on a connection without TLS (off: LOGINDISABLED until STARTTLS, RFC 9051 §6.2.3). */
        allowPlaintext: z
          .union([z.boolean(), z.enum(['true', 'false'])])
          .transform((v) => v === true || v === 'true')
          .default(false),
      })
      .strict()
      .prefault({}),
    imap: z
      .object({
        /** Autologout after this long without a command (RFC 9051 §5.4: at least 30 minutes). */
        idleTimeout: duration.default(30 * 60_000),
        /** Largest message APPEND accepts (APPENDLIMIT, RFC 7889). */
        appendLimit: size.default(50 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    pop3: z
      .object({
        /** Autologout after this long without a command (RFC 1939 §3: at least 10 minutes). */
        idleTimeout: duration.default(10 * 60_000),
      })
      .strict()
      .prefault({}),
    /** Per-user storage limit reported by IMAP QUOTA (RFC 9208); unset = no limit. */
    quota: z.object({ storage: size.optional() }).strict().prefault({}),
    tls: z
      .object({ cert: z.string().optional(), key: z.string().optional() })
      .strict()
      .prefault({}),
    topology: z.object({ dir: z.string().default(join(PROJECT_ROOT, 'topology')) }).strict().prefault({}),
    runner: z
      .object({
        batchSize: z.coerce.number().int().positive().default(256),
        pollTimeout: duration.default(500),
        /** Run the stages in a worker thread of their own (a second core) rather than on the listeners' thread. */
        thread: z
          .union([z.boolean(), z.enum(['true', 'false'])])
          .transform((v) => v === true || v === 'true')
          .default(true),
        /** After a short poll, wait this long for more records: bigger batches, fewer fsyncs. */
        linger: duration.default(2),
        retentionInterval: duration.default(600_000),
      })
      .strict()
      .prefault({}),
    log: z.object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') }).strict().prefault({}),
    dns: z.object({ servers: z.array(hostPort).default([]) }).strict().prefault({}),
    /** The sending flow (outbound.yaml): where and how outgoing mail is delivered and retried. */
    outbound: z
      .object({
        /** Port of the recipients' MX hosts (25; other values for tests). */
        port: z.coerce.number().int().positive().max(65535).default(25),
        /** A smarthost host:port that takes all outgoing mail instead of the MX hosts. */
        relay: hostPort.optional(),
        /** Delays before retry 1, 2, …; the last repeats (at most 5: one per retry topic). */
        retrySchedule: z.array(duration).min(1).max(5).default([60_000, 300_000, 1_800_000, 7_200_000, 28_800_000]),
        /** Give up (failure DSN) this long after submission; below the queue topics' retention (30d, outbound.yaml). */
        maxAge: duration.refine((ms) => ms <= 25 * 86_400_000, 'at most 25d (the queue topics keep records 30d)').default(5 * 86_400_000),
        /** Send the sender one "delayed" DSN when mail is still queued this long after submission. */
        delayWarning: duration.default(4 * 3_600_000),
        /** Connections at once to one destination (recipient domain or relay). */
        connectionsPerDomain: z.coerce.number().int().positive().default(5),
        /** TCP connect and greeting timeout. */
        connectTimeout: duration.default(30_000),
        /** How long an SMTP session to a remote server stays open, idle, for the next message (0: QUIT after each). */
        idleTimeout: duration.default(5_000),
      })
      .strict()
      .prefault({}),
    scan: z.object({ clamd: z.string().optional(), rspamd: z.string().optional() }).strict().prefault({}),
    engines: z
      .object({
        store: storeEngine.prefault({ kind: 'sqlite' }),
        search: searchEngine.prefault({ kind: 'sqlite' }),
        blobs: blobEngine.prefault({ kind: 'files' }),
        log: logEngine.prefault({ kind: 'embedded' }),
      })
      .strict()
      .prefault({}),
    /** Spam verdict: a message scoring at or above `threshold` goes to Junk (processors/spam.ts). */
    spam: z
      .object({
        threshold: z.coerce.number().default(6),
        dmarcRejectScore: z.coerce.number().default(10),
        dmarcQuarantineScore: z.coerce.number().default(5),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.output<typeof configSchema>;
type RawConfig = Record<string, unknown>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function envName(path: readonly string[]): string {
  return 'SLUICE_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

/** Leaf paths of the schema's defaults, e.g. ['listen','imap'], ['smtp','maxSize']. */
function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
  }
  return [prefix];
}

/** All keys the environment may set, with their variable names (also used by `--help`). */
export function environmentKeys(): { path: string; variable: string }[] {
  const defaults = configSchema.parse({});
  const paths = leafPaths(defaults).filter((p) => p[0] !== 'engines');
  paths.push(...ENGINE_KEYS.map((p) => [...p]));
  // Optional keys without defaults do not appear in the parsed defaults: add them.
  for (const extra of [['postmaster'], ['tls', 'cert'], ['tls', 'key'], ['outbound', 'relay'], ['scan', 'clamd'], ['scan', 'rspamd'], ['quota', 'storage']]) paths.push(extra);
  return paths.map((p) => ({ path: p.join('.'), variable: envName(p) }));
}

function setPath(target: RawConfig, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!next || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as RawConfig;
  }
  node[path[path.length - 1]] = value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export interface LoadConfigOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Dotted keys set on the command line, e.g. { dataDir: './x' }. */
  overrides?: Record<string, unknown>;
}

export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  let raw: RawConfig = {};
  const file = options.file ?? env.SLUICE_CONFIG;
  if (file) {
    if (!existsSync(file)) throw new ConfigError(`config file not found: ${file}`);
    const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) throw new ConfigError(`${file}: expected a mapping at the top level`);
    raw = (parsed ?? {}) as RawConfig;
  }
  for (const { path, variable } of environmentKeys()) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    const segments = path.split('.');
    setPath(raw, segments, LIST_KEYS.has(path) ? value.split(',').map((s) => s.trim()).filter(Boolean) : value);
  }
  for (const [path, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(raw, path.split('.'), value);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}:\n${lines.join('\n')}`);
  }
  const config = result.data;
  config.dataDir = resolve(config.dataDir);
  return deepFreeze(config);
}

export function splitHostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  return { host: value.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(value.slice(i + 1)) };
}
