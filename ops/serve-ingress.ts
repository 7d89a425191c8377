/**
 * The `ingress` role of `sluice serve`: the SMTP MX listener and the submission listeners (587
 * with STARTTLS, 465 with implicit TLS). They append to the log and answer once it is durable;
 * the stages, here or in another process, take it from there.
 */
import type { App } from './app.ts';
import type { Metrics } from './metrics.ts';
import type { Log } from '../connectors/log/log.ts';
import type { Authenticator } from '../access/auth/authenticator.ts';
import { splitHostPort } from './config.ts';
import { createMxServer } from '../ingress/smtp-mx.ts';
import { createSubmissionServer } from '../ingress/submission.ts';
import { SubmissionLimits } from '../ingress/submission-limits.ts';
import { schemaType } from '../schemas/registry.ts';
import type { MailOutbound, MailReceived } from '../schemas/types.ts';

export interface RunningListeners {
  /** Bound address of each listener, e.g. { smtp: '127.0.0.1:2525' }. */
  readonly listeners: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

export interface IngressDeps {
  readonly app: App;
  /** Where the listeners append (the app's log, or the pipeline thread's, see RunningStages.log). */
  readonly log: Log;
  readonly metrics: Metrics;
  readonly tls: { key: string; cert: string };
  readonly authenticator: Authenticator;
}

function smtpMetrics(metrics: Metrics, listener: 'smtp' | 'submission') {
  return {
    accepted: (recipients: number) => {
      metrics.smtpMessages.inc({ listener, outcome: 'accepted' });
      metrics.smtpRecipients.inc({ listener }, recipients);
    },
    rejected: (code: number) => metrics.smtpMessages.inc({ listener, outcome: code >= 500 ? 'rejected' : 'deferred' }),
  };
}

export async function startIngress({ app, log, metrics, tls, authenticator }: IngressDeps): Promise<RunningListeners> {
  const { config, logger } = app;
  const receivedType = schemaType('MailReceived');
  const mx = createMxServer({
    log,
    blobs: app.blobs,
    store: app.store,
    logger: logger.child({ listener: 'smtp' }),
    hostname: config.hostname,
    maxSize: config.smtp.maxSize,
    maxRecipients: config.smtp.maxRecipients,
    idleTimeoutMs: config.smtp.idleTimeout,
    reverseLookup: config.smtp.reverseLookup,
    greetingDelayMs: config.smtp.greetingDelay,
    postmaster: config.postmaster,
    metrics: smtpMetrics(metrics, 'smtp'),
    tls,
    encode: (value: MailReceived) => receivedType.toBuffer(value),
  });
  // Submission (RFC 6409): 587 with STARTTLS, 465 with implicit TLS (RFC 8314 §3.3).
  const outboundType = schemaType('MailOutbound');
  const submission = createSubmissionServer({
    log,
    blobs: app.blobs,
    store: app.store,
    authenticator,
    logger: logger.child({ listener: 'submission' }),
    hostname: config.hostname,
    tls,
    maxSize: config.smtp.maxSize,
    maxRecipients: config.submission.maxRecipients,
    limits: new SubmissionLimits({ ...config.submission.rateLimit, windowMs: config.submission.rateLimit.window }),
    idleTimeoutMs: config.smtp.idleTimeout,
    metrics: smtpMetrics(metrics, 'submission'),
    encodeReceived: (value: MailReceived) => receivedType.toBuffer(value),
    encodeOutbound: (value: MailOutbound) => outboundType.toBuffer(value),
  });
  const close = async () => {
    await mx.close();
    await submission.close();
  };
  const listeners: Record<string, string> = {};
  try {
    const smtpAt = splitHostPort(config.listen.smtp);
    listeners.smtp = `${smtpAt.host}:${(await mx.listen(smtpAt.port, smtpAt.host)).port}`;
    for (const name of ['submission', 'submissions'] as const) {
      const at = splitHostPort(config.listen[name]);
      const address = await submission.listen(at.port, at.host, name === 'submissions');
      listeners[name] = `${at.host}:${address.port}`;
    }
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { listeners, close };
}
