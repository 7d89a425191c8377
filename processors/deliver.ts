/**
 * The `deliver` stage: MailOutbound → the outcome of one delivery attempt for one domain's
 * recipients (RFC 5321 §5.1, §4.2).
 *
 * 1. Where: `outbound.relay` when set, else the domain's MX hosts by preference with the A/AAAA
 *    fallback (connectors/dns); each host's addresses in turn, on `outbound.port`. A domain that
 *    does not exist, has a null MX (RFC 7505) or no usable host fails permanently; a lookup that
 *    could not be answered is a temporary failure.
 * 2. How: one SMTP transaction (opportunistic STARTTLS, PIPELINING) through connectors/smtp-client,
 *    at most `outbound.connectionsPerDomain` at once per destination; a host that cannot be
 *    reached or refuses the session passes to the next one. A batch's messages to one
 *    destination are taken in turn by up to `outbound.connectionsPerDomain` lanes, each in one
 *    connection slot and each sending its messages one after the other over one SMTP session
 *    that the client keeps open between them and for `outbound.idleTimeout` after (RSET before
 *    each next transaction, RFC 5321 §4.1.1.5) — as Postfix's parallel deliveries over its
 *    connection cache: the remote's per-message time (its queue file's fsync before the 250)
 *    is then paid by several sessions at once, not one message after another. A session that
 *    breaks mid-way costs only the transaction it was in (deferred, like any lost connection;
 *    at-most-once resend if the break came after the final dot); that lane's next message opens
 *    a new session. When no host took the session, the rest of that destination's messages in
 *    the batch get the same reply.
 * 3. What then, per recipient (RFC 5321 §4.2.1): 2yz delivered; 5yz failed — a failure DSN
 *    (RFC 3464) to the sender's INBOX; 4yz, a timeout, a refused connection: deferred — the
 *    recipients go on one record to retry topic N (attempt N, `notBefore` from
 *    `outbound.retrySchedule`), the sender gets one "delayed" DSN once the mail is
 *    `outbound.delayWarning` old, and a failure DSN once it is `outbound.maxAge` old (expired).
 *    Every recipient's outcome goes to mail.outbound.results.
 *
 * Outputs and the input offset are committed together, so a recipient is never lost nor queued
 * twice; a crash (or a failed commit) after a remote 250 and before the commit sends that
 * message again when the record is replayed — once per such crash (RFC 5321 §6.1 duplicates).
 * Records of a batch to different destinations are delivered concurrently.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { RetryableError, type OutputRecord, type ProcessorDefinition, type Resources } from './processor.ts';
import type { DeliveryResult, DeliveryStatus, MailOutbound, MailReceived } from '../schemas/types.ts';
import { DnsError } from '../connectors/dns/dns.ts';
import type { OutboundResources } from '../connectors/outbound.ts';
import { SmtpConnectError, type RecipientReply, type SmtpTarget } from '../connectors/smtp-client/smtp-client.ts';
import { expiresAt, nextAttempt } from './outbound/schedule.ts';
import { dsnRecord } from './outbound/notify.ts';
import { readOutgoing } from './outbound/outgoing-bytes.ts';
import { statusFromReply, type DsnRecipient } from './outbound/dsn.ts';

const RETRY_TOPICS = [1, 2, 3, 4, 5].map((n) => `mail.outbound.retry.${n}`);

const configSchema = z.object({
  /** Retry topic N holds attempt N's temporary failures; the last one all later attempts. */
  retryTopics: z.array(z.string().min(1)).min(1).default(RETRY_TOPICS),
  /** Where DSNs go: the receiving flow's input. */
  dsnTopic: z.string().default('mail.received'),
  resultsTopic: z.string().default('mail.outbound.results'),
});
export type DeliverConfig = z.output<typeof configSchema>;

type Output = OutputRecord<MailOutbound | MailReceived | DeliveryResult>;

/** One attempt's replies and the host that gave them (or that was tried last). */
interface Attempt {
  readonly replies: readonly RecipientReply[];
  readonly host: string;
  /** Set when no host took the session. */
  readonly unreachable?: { readonly code: number; readonly response: string };
}

function splitRelay(relay: string): { host: string; port: number } {
  const i = relay.lastIndexOf(':');
  return { host: relay.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(relay.slice(i + 1)) };
}

/** The same reply for every recipient. */
function all(recipients: readonly string[], code: number, response: string): RecipientReply[] {
  return recipients.map((recipient) => ({ recipient, code, response }));
}

/** Where to connect, most preferred first, or the reply the recipients get when there is nowhere. */
async function targetsFor(out: OutboundResources, domain: string): Promise<SmtpTarget[] | { code: number; response: string }> {
  const { relay, port } = out.policy;
  try {
    if (relay) {
      const r = splitRelay(relay);
      const addresses = isIP(r.host) ? [r.host] : await out.dns.addresses(r.host);
      if (addresses.length === 0) return { code: 0, response: `4.4.3 relay ${r.host} has no address` };
      return addresses.map((address) => ({ host: r.host, address, port: r.port }));
    }
    const hosts = await out.dns.mailHosts(domain);
    return hosts.flatMap((h) => h.addresses.map((address) => ({ host: h.exchange, address, port })));
  } catch (err) {
    if (!(err instanceof DnsError)) throw err;
    if (err.temporary) return { code: 0, response: `4.4.3 ${err.message}` };
    // RFC 7505 §4.2: mail to a null-MX domain fails with 556 5.1.10; RFC 3463: 5.1.2 bad destination.
    if (err.code === 'NULLMX') return { code: 556, response: `5.1.10 ${err.message}` };
    return { code: 550, response: `5.1.2 ${err.message}` };
  }
}

/**
 * One message's attempt. The caller holds the destination's connection slot; `where` gives the
 * destination's hosts (looked up once per run of the batch's messages to it). `unreachable`:
 * what an earlier message of the same run found when no host took the session (the rest of
 * the run gets the same reply instead of waiting for the same timeouts again).
 */
async function attempt(out: OutboundResources, mail: MailOutbound, message: Buffer, where: () => ReturnType<typeof targetsFor>, unreachable?: Attempt): Promise<Attempt> {
  if (unreachable?.unreachable) return { ...unreachable, replies: all(mail.recipients, unreachable.unreachable.code, unreachable.unreachable.response) };
  const targets = await where();
  if (!Array.isArray(targets)) return { replies: all(mail.recipients, targets.code, targets.response), host: '' };
  let last: SmtpConnectError | undefined;
  let lastHost = '';
  for (const target of targets) {
    lastHost = target.host;
    try {
      return { replies: await out.smtp.send(target, { from: mail.mailFrom, to: mail.recipients, message }), host: target.host };
    } catch (err) {
      if (!(err instanceof SmtpConnectError)) throw err;
      last = err; // RFC 5321 §5.1: try the next address / MX host
    }
  }
  // No host took the session: the greeting's reply when there was one (5yz from the last host
  // is permanent, RFC 5321 §3.1), else no code — temporary, and the DSN says it was ours.
  const code = last?.code ?? 0;
  const text = last ? last.message : 'no host to try';
  const response = code >= 500 ? `5.4.0 ${text}` : `4.4.1 no answer: ${text}`;
  return { replies: all(mail.recipients, code, response), host: lastHost, unreachable: { code, response } };
}

function result(mail: MailOutbound, n: number, reply: RecipientReply, status: DeliveryStatus, host: string, at: number, nextAttemptAt = 0): DeliveryResult {
  return {
    outboundId: mail.outboundId,
    ingressId: mail.ingressId,
    userId: mail.userId,
    domain: mail.domain,
    recipient: reply.recipient,
    attempt: n,
    status,
    code: reply.code,
    response: reply.response,
    host,
    at,
    nextAttemptAt,
  };
}

function dsnEntry(reply: RecipientReply, host: string, fallbackStatus: string): DsnRecipient {
  return {
    recipient: reply.recipient,
    status: statusFromReply(reply.code, reply.response, fallbackStatus),
    diagnostic: reply.code > 0 && !reply.response.startsWith(String(reply.code)) ? `${reply.code} ${reply.response}` : reply.response,
    ...(host && reply.code > 0 ? { remoteMta: host } : {}),
    diagnosticType: reply.code > 0 && host ? 'smtp' : 'x-sluice',
  };
}

/** The outputs of one finished attempt. */
async function outcome(config: DeliverConfig, resources: Resources, out: OutboundResources, key: string, mail: MailOutbound, done: Attempt): Promise<Output[]> {
  const now = resources.now();
  const n = mail.attempt + 1;
  const { hostname } = out.policy;
  const outputs: Output[] = [];
  const results = (r: DeliveryResult): Output => ({ topic: config.resultsTopic, key, value: r });
  const delivered = done.replies.filter((r) => r.code >= 200 && r.code < 300);
  const failed = done.replies.filter((r) => r.code >= 500);
  const deferred = done.replies.filter((r) => !(r.code >= 200 && r.code < 300) && !(r.code >= 500));
  const expired = deferred.length > 0 && now >= expiresAt(out.policy, mail.submittedAt);
  for (const r of delivered) outputs.push(results(result(mail, n, r, 'delivered', done.host, now)));
  for (const r of failed) outputs.push(results(result(mail, n, r, 'failed', done.host, now)));

  const bounced: DsnRecipient[] = failed.map((r) => dsnEntry(r, done.host, '5.0.0'));
  if (expired) {
    for (const r of deferred) {
      outputs.push(results(result(mail, n, r, 'expired', done.host, now)));
      // RFC 3463 §3.5: 4.4.7 delivery time expired; the last reply says why.
      bounced.push({ ...dsnEntry(r, done.host, '4.4.7'), status: '4.4.7', diagnostic: `delivery time expired; last reply: ${r.response || 'none'}` });
    }
  }
  if (bounced.length > 0) {
    const dsn = await dsnRecord(resources.blobs, { mail, action: 'failed', recipients: bounced, tag: `failed-${n}`, hostname, now });
    outputs.push({ topic: config.dsnTopic, key: dsn.userId, value: dsn });
  }
  if (deferred.length > 0 && !expired) {
    const next = nextAttempt(out.policy, config.retryTopics.length, n, now, mail.submittedAt, mail.delayNotified);
    for (const r of deferred) outputs.push(results(result(mail, n, r, 'deferred', done.host, now, next.notBefore)));
    const warn = !mail.delayNotified && now >= mail.submittedAt + out.policy.delayWarningMs;
    if (warn) {
      const recipients = deferred.map((r) => dsnEntry(r, done.host, '4.0.0'));
      const dsn = await dsnRecord(resources.blobs, { mail, action: 'delayed', recipients, tag: `delayed-${n}`, hostname, now, willRetryUntil: expiresAt(out.policy, mail.submittedAt) });
      outputs.push({ topic: config.dsnTopic, key: dsn.userId, value: dsn });
    }
    const retry: MailOutbound = {
      ...mail,
      recipients: deferred.map((r) => r.recipient),
      attempt: n,
      notBefore: next.notBefore,
      delayNotified: mail.delayNotified || warn,
      lastResponses: Object.fromEntries(deferred.map((r) => [r.recipient, r.response])),
    };
    outputs.push({ topic: config.retryTopics[next.topic], key, value: retry });
  }
  resources.logger.info(
    { outboundId: mail.outboundId, attempt: n, host: done.host, delivered: delivered.length, failed: failed.length, deferred: expired ? 0 : deferred.length, expired: expired ? deferred.length : 0 },
    'deliver: attempt done',
  );
  return outputs;
}

export const deliverProcessor: ProcessorDefinition<DeliverConfig, MailOutbound, MailOutbound | MailReceived | DeliveryResult> = {
  name: 'deliver',
  spec: {
    description: 'Delivers to the domain\'s MX hosts (or the relay); temporary failures to the retry topics, permanent ones and expiry as DSNs to the sender.',
    input: 'MailOutbound',
    output: 'MailOutbound',
    extraOutputs: ['MailReceived', 'DeliveryResult'],
    config: configSchema,
  },
  create(config, resources) {
    const out = resources.outbound;
    if (!out) throw new Error('deliver stage: no outbound resources (the composition root builds them)');
    if (out.policy.retrySchedule.length === 0) throw new Error('deliver stage: outbound.retrySchedule is empty');
    if (out.policy.retrySchedule.length > config.retryTopics.length) {
      // One delay per retry topic keeps each topic's records due in the order they were written.
      throw new Error(`deliver stage: outbound.retrySchedule has ${out.policy.retrySchedule.length} delays but the stage has ${config.retryTopics.length} retry topics`);
    }
    const { blobs, logger } = resources;

    /** The network part: never throws (anything unexpected is a temporary failure, logged). */
    async function tryOnce(mail: MailOutbound, where: () => ReturnType<typeof targetsFor>, unreachable?: Attempt): Promise<Attempt> {
      try {
        const message = await readOutgoing(blobs, mail);
        return await attempt(out!, mail, message, where, unreachable);
      } catch (err) {
        logger.error({ err, outboundId: mail.outboundId }, 'deliver: attempt failed locally; deferred');
        return { replies: all(mail.recipients, 0, `4.3.0 local error: ${err instanceof Error ? err.message : String(err)}`), host: '' };
      }
    }

    async function deliverAll(records: readonly { key: string; value: MailOutbound }[]): Promise<Output[][]> {
      // The batch's messages to one destination are taken in turn by up to connectionsPerDomain
      // lanes; a lane holds one connection slot and sends its messages one after the other, so
      // they share its SMTP session (the client reuses it, RSET between transactions).
      // Destinations in parallel.
      const byDestination = new Map<string, number[]>();
      records.forEach((r, i) => {
        const destination = out!.policy.relay ?? r.value.domain.toLowerCase();
        byDestination.set(destination, [...(byDestination.get(destination) ?? []), i]);
      });
      const attempts: Attempt[] = new Array<Attempt>(records.length);
      await Promise.all(
        [...byDestination].flatMap(([destination, indexes]) => {
          let targets: ReturnType<typeof targetsFor> | undefined;
          const where = () => (targets ??= targetsFor(out!, records[indexes[0]].value.domain));
          const next = [...indexes];
          /** Set once an attempt found no host that takes the session: the others get its reply. */
          let unreachable: Attempt | undefined;
          const lane = () =>
            out!.limiter.run(destination, async () => {
              for (let i = next.shift(); i !== undefined; i = next.shift()) {
                const done = (attempts[i] = await tryOnce(records[i].value, where, unreachable));
                if (done.unreachable) unreachable = done;
              }
            });
          return Array.from({ length: Math.min(out!.limiter.limit, indexes.length) }, lane);
        }),
      );
      try {
        return await Promise.all(records.map((r, i) => outcome(config, resources, out!, r.key, r.value, attempts[i])));
      } catch (err) {
        // Not a dead letter: the replies are known only now. Retry the batch (may re-send, as a crash would).
        throw new RetryableError(`deliver: recording the outcome failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    }

    return {
      async process(record) {
        const [outputs] = await deliverAll([record]);
        return outputs;
      },
      processBatch: (records) => deliverAll(records),
    };
  },
};
