/**
 * `sluice queue list [--json] | show ID [--json] | retry-now ID | drop ID [--bounce]`: the outgoing
 * queue (ops/queue.ts), read from and written to the log — safe while the server runs. ID is an
 * outbound id (`<ingress id>:<domain>`) or a prefix of one (the ingress id that the submission's
 * `250 … queued as` named).
 */
import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { openLog } from '../open-engines.ts';
import { loadTopologies } from '../../topology/loader.ts';
import { PROCESSORS } from '../../processors/index.ts';
import { openBlobStore } from '../app.ts';
import { OutboundQueue, lastError, queueTopics, type QueueEntry } from '../queue.ts';
import type { Config } from '../config.ts';
import { configFrom, parse, UsageError, type Command } from './common.ts';

const ACTIONS = ['list', 'show', 'retry-now', 'drop'] as const;

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)}h`;
  return `${(s / 86_400).toFixed(1)}d`;
}

function next(e: QueueEntry, now: number): string {
  if (!e.waits || e.mail.notBefore <= now) return `now (${e.stage})`;
  return `${new Date(e.mail.notBefore).toISOString()} (in ${age(e.mail.notBefore - now)})`;
}

/** The JSON form of an entry (list --json, show --json). */
function entryJson(e: QueueEntry, now: number) {
  return {
    id: e.id,
    sender: e.mail.mailFrom,
    user: e.mail.userId,
    domain: e.mail.domain,
    recipients: e.mail.recipients,
    attempts: e.mail.attempt,
    nextAttemptAt: e.waits ? e.mail.notBefore : 0,
    stage: e.stage,
    lastError: lastError(e.mail),
    lastResponses: e.mail.lastResponses,
    submittedAt: e.mail.submittedAt,
    ageSeconds: Math.round((now - e.mail.submittedAt) / 1000),
    size: e.mail.size,
    position: e.position,
  };
}

function one(matches: QueueEntry[], id: string): QueueEntry | undefined {
  if (matches.length > 1) throw new UsageError(`'${id}' names ${matches.length} queued messages: ${matches.map((m) => m.id).join(', ')}`);
  return matches[0];
}

async function withQueue<T>(config: Readonly<Config>, body: (queue: OutboundQueue) => Promise<T>): Promise<T> {
  const topologies = loadTopologies(config.topology.dir, PROCESSORS);
  mkdirSync(config.dataDir, { recursive: true });
  const log = await openLog(config, topologies);
  try {
    // The server creates these at start; a command run before it must find them too.
    await log.ensureTopics(topologies.flatMap((t) => [...t.topics.values()]).map((t) => ({ name: t.name, partitions: t.partitions, retentionMs: t.retentionMs })));
    return await body(new OutboundQueue(log, queueTopics(topologies)));
  } finally {
    await log.close();
  }
}

export const queueCommand: Command = {
  name: 'queue',
  usage: 'queue list [--json] | show ID [--json] | retry-now ID | drop ID [--bounce]',
  summary: 'the outgoing queue: list, show, retry now or drop a queued message',
  async run(args) {
    const { values, positionals } = parse(args, { json: { type: 'boolean' }, bounce: { type: 'boolean' } });
    const [action, id] = positionals;
    if (!(ACTIONS as readonly string[]).includes(action ?? '')) throw new UsageError(`expected ${ACTIONS.join(', ')}`);
    if (action !== 'list' && !id) throw new UsageError(`queue ${action} needs an ID (see queue list)`);
    if (values.bounce && action !== 'drop') throw new UsageError('--bounce goes with drop');
    const config = configFrom(values);
    const out = (line: string) => process.stdout.write(line + '\n');
    const by = userInfo().username;
    return withQueue(config, async (queue) => {
      const now = Date.now();
      if (action === 'list') {
        const entries = await queue.list();
        if (values.json) {
          out(JSON.stringify(entries.map((e) => entryJson(e, now))));
          return 0;
        }
        if (entries.length) out(['ID', 'SENDER', 'DOMAIN', 'RECIPIENTS', 'ATTEMPTS', 'NEXT ATTEMPT', 'AGE', 'LAST ERROR'].join('\t'));
        for (const e of entries) {
          out([e.id, e.mail.mailFrom, e.mail.domain, e.mail.recipients.join(','), e.mail.attempt, next(e, now), age(now - e.mail.submittedAt), lastError(e.mail) || '-'].join('\t'));
        }
        const recipients = entries.reduce((n, e) => n + e.mail.recipients.length, 0);
        out(`${entries.length} queued message(s), ${recipients} recipient(s)`);
        return 0;
      }
      const entry = one(await queue.find(id), id);
      if (action === 'show') {
        const history = await queue.history(entry?.id ?? id);
        const marks = await queue.marks(entry?.id ?? history[0]?.outboundId ?? id);
        if (!entry && history.length === 0 && marks.length === 0) {
          process.stderr.write(`sluice queue: no message '${id}' in the queue or its history\n`);
          return 1;
        }
        if (values.json) {
          out(JSON.stringify({ queued: entry ? entryJson(entry, now) : null, history, marks }));
          return 0;
        }
        if (entry) {
          const j = entryJson(entry, now);
          out(`id: ${j.id}\nsender: ${j.sender} (user ${j.user})\ndomain: ${j.domain}\nrecipients: ${j.recipients.join(', ')}\nattempts: ${j.attempts}\nnext attempt: ${next(entry, now)}`);
          out(`submitted: ${new Date(j.submittedAt).toISOString()} (${age(now - j.submittedAt)} ago), ${j.size} bytes\nqueued at: ${entry.position.topic}/${entry.position.partition}/${entry.position.offset}`);
          for (const [rcpt, reply] of Object.entries(entry.mail.lastResponses)) out(`last reply for ${rcpt}: ${reply}`);
        } else {
          out(`${history[0]?.outboundId ?? id}: not queued`);
        }
        for (const m of marks) out(`${new Date(m.at).toISOString()}  ${m.action} by ${m.by || '?'}${m.action === 'drop' ? (m.bounce ? ' (sender sent a DSN)' : ' (no DSN)') : ''}`);
        for (const h of history) out(`${new Date(h.at).toISOString()}  attempt ${h.attempt}  ${h.recipient}  ${h.status}${h.host ? ` at ${h.host}` : ''}${h.response ? `: ${h.response}` : ''}`);
        return 0;
      }
      if (!entry) {
        // Idempotent: a second retry-now / drop finds the mark of the first.
        const marks = (await queue.control.all()).values();
        const done = [...marks].find((m) => (m.outboundId === id || m.outboundId.startsWith(id)) && m.action === action);
        if (done) {
          out(`${done.outboundId}: already ${action === 'drop' ? 'dropped' : 'retried'} at ${new Date(done.at).toISOString()}; nothing to do`);
          return 0;
        }
        process.stderr.write(`sluice queue: no queued message '${id}' (see queue list)\n`);
        return 1;
      }
      if (action === 'retry-now') {
        const result = await queue.retryNow(entry, by, now);
        out(result === 'retried' ? `${entry.id}: due now (was ${new Date(entry.mail.notBefore).toISOString()}); a copy went to ${entry.next}` : `${entry.id}: already due (${next(entry, now)}); nothing to do`);
        return 0;
      }
      const blobs = values.bounce ? await openBlobStore(config) : undefined;
      try {
        await queue.drop(entry, { by, bounce: values.bounce ?? false, blobs, hostname: config.hostname, now });
      } finally {
        await blobs?.close();
      }
      out(`${entry.id}: dropped (${entry.mail.recipients.length} recipient(s)); ${values.bounce ? 'the sender was sent a failure DSN' : 'the sender was not told (use --bounce to send a DSN)'}`);
      // A stage may have picked the record up before the mark was written: say so if it did.
      await new Promise((r) => setTimeout(r, 1000));
      const late = (await queue.history(entry.id)).filter((h) => h.attempt > entry.mail.attempt && h.status !== 'dropped');
      const again = (await queue.find(entry.id)).filter((e) => e.id === entry.id);
      if (late.length) out(`note: attempt ${late[0].attempt} was already under way: ${late.map((h) => `${h.recipient} ${h.status}`).join(', ')}`);
      if (again.length) out(`note: ${entry.id} is queued again (${again.map((e) => e.position.topic).join(', ')}): run drop once more`);
      return 0;
    });
  },
};
