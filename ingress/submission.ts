/**
 * The message submission listeners (DESIGN.md §2, sending flow; RFC 6409): `listen.submission`
 * (STARTTLS, RFC 3207) and `listen.submissions` (implicit TLS, RFC 8314 §3.3).
 *
 * Built on smtp-server like the MX (`smtp-mx.ts`), with the same durable append: the raw message
 * goes to the blob store, the records to the log, and 250 is sent only once the log has them
 * durably (DESIGN.md §1.1). What differs:
 * - AUTH PLAIN / LOGIN (RFC 4954) is required before MAIL, checked by the shared password
 *   authenticator (`access/auth/`, growing delays after failures), and offered only over TLS;
 * - MAIL FROM and every `From:` address must be the authenticated user's (else 553 5.7.1);
 * - recipients may be remote: `submission-route.ts` splits them into a Sent copy, local
 *   deliveries (`mail.received`) and per-domain `mail.outbound` records, produced in one append;
 * - per-user rate limits on messages and recipients (`submission-limits.ts`, 451 4.7.1).
 */
import { randomUUID } from 'node:crypto';
import type { SMTPServer, SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { Logger } from 'pino';
import type { Log, ProduceRecord } from '../connectors/log/log.ts';
import type { BlobStore } from '../connectors/blob/blob.ts';
import type { MailStore } from '../connectors/store/store.ts';
import type { Authenticator } from '../access/auth/authenticator.ts';
import type { MailOutbound, MailReceived } from '../schemas/types.ts';
import { ENHANCED_CODE_PREFIX, SmtpError, smtpErrors } from './smtp-errors.ts';
import { findBareLineBreak } from './line-endings.ts';
import { collectData } from './collect-data.ts';
import { createHookedServer, greetAfter, type SmtpConnection } from './hooked-server.ts';
import { receivedHeader } from './received-header.ts';
import { fromAddresses } from './from-header.ts';
import { domainOf, routeSubmission } from './submission-route.ts';
import { DEFAULT_MAX_SIZE, type MxMetrics } from './smtp-mx.ts';
import { SubmissionLimits } from './submission-limits.ts';

export interface SubmissionDeps {
  readonly log: Log;
  readonly blobs: BlobStore;
  readonly store: MailStore;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  readonly hostname: string;
  /** Required: passwords never cross the wire in clear (RFC 8314 §3). */
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** RFC 1870 SIZE limit in bytes; default 50 MiB. */
  readonly maxSize?: number;
  /** Recipients per message for one user (RFC 5321 §4.5.3.1.8: at least 100); default 100. */
  readonly maxRecipients?: number;
  /** RFC 5321 §4.5.3.2: idle timeout, default 5 minutes. */
  readonly idleTimeoutMs?: number;
  readonly closeTimeoutMs?: number;
  /** Defaults 'mail.received' and 'mail.outbound'. */
  readonly receivedTopic?: string;
  readonly outboundTopic?: string;
  readonly encodeReceived: (value: MailReceived) => Buffer;
  readonly encodeOutbound: (value: MailOutbound) => Buffer;
  readonly metrics?: MxMetrics;
  /** Per-user messages and recipients per window; default 500 messages and 2000 recipients an hour. */
  readonly limits?: SubmissionLimits;
}

export interface SubmissionServer {
  /** `implicitTls`: TLS from the first byte (port 465); else STARTTLS (port 587). */
  listen(port: number, host: string, implicitTls: boolean): Promise<{ port: number }>;
  close(): Promise<void>;
}

type Connection = SmtpConnection;
type ServerCallback = (err?: Error | null) => void;
/** RFC 4954 §4: with AUTH, command lines may be longer than 512 octets. */
const MAX_COMMAND_LENGTH = 16 * 1024;

interface Recipient {
  readonly address: string;
  /** The local user's id, or null for a remote recipient. */
  readonly userId: string | null;
}

export function createSubmissionServer(deps: SubmissionDeps): SubmissionServer {
  const logger = deps.logger.child({ component: 'submission' });
  const maxSize = deps.maxSize ?? DEFAULT_MAX_SIZE;
  const receivedTopic = deps.receivedTopic ?? 'mail.received';
  const outboundTopic = deps.outboundTopic ?? 'mail.outbound';
  const recipients = new WeakMap<SMTPServerAddress, Recipient>();
  const inflight = new Set<Promise<unknown>>();
  const servers: SMTPServer[] = [];
  const limits = deps.limits ?? new SubmissionLimits();

  function fail(callback: ServerCallback, err: unknown, what: string, context: Record<string, unknown>): void {
    if (!(err instanceof SmtpError)) logger.error({ err, ...context }, `${what} failed; answering 451`);
    callback((err instanceof SmtpError ? err : smtpErrors.temporaryFailure()).toServerError());
  }

  /** Replies smtp-server sends itself, adjusted to the RFC codes of our catalogue. */
  function hookConnection(connection: Connection): void {
    const send = connection.send.bind(connection);
    connection.send = (code, data, context) => {
      let error: SmtpError | undefined;
      // RFC 4954 §6 / RFC 3207 §4: AUTH before STARTTLS.
      if (code === 538) error = smtpErrors.encryptionRequired();
      // RFC 4954 §6: MAIL/RCPT/DATA before AUTH.
      else if (code === 530 && typeof data === 'string' && /authentication required/i.test(data)) error = smtpErrors.authRequired();
      if (error) {
        code = error.code;
        data = `${error.enhanced} ${error.text}`;
      }
      if (typeof data === 'string' && ENHANCED_CODE_PREFIX.test(data)) context = false;
      if (code >= 400) {
        logger.info({ remoteAddress: connection.session.remoteAddress, user: connection.session.user, code, reply: String(data ?? '') }, 'submission reply refused a command');
        deps.metrics?.rejected?.(code);
      }
      send(code, data, context);
    };
  }

  function onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, callback: (err: Error | null | undefined, response?: { user?: string }) => void): void {
    const address = (auth.username ?? '').trim().toLowerCase();
    deps.authenticator.login(address, auth.password ?? '', session.remoteAddress).then(
      (user) => (user ? callback(null, { user: user.id }) : callback(smtpErrors.authFailed().toServerError())),
      (err: unknown) => fail((e) => callback(e), err, 'authentication', { address }),
    );
  }

  function onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: ServerCallback): void {
    // RFC 6409 §6.1: the submission server may check the sender; ours sends only as the user.
    if (address.address.toLowerCase() !== session.user) return callback(smtpErrors.senderNotOwned(`<${address.address}>`).toServerError());
    // RFC 5321 §4.2.5: over the user's sending rate, 451 4.7.1 (submission-limits.ts).
    limits.checkMessage(session.user).then(
      () => callback(),
      (err: unknown) => fail(callback, err, 'rate limit', { user: session.user }),
    );
  }

  async function checkRecipient(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    if (session.user) await limits.checkRecipient(session.user, session.envelope.rcptTo.length);
    const at = address.address.lastIndexOf('@');
    // RFC 6409 §4.1: the submission server may require fully qualified addresses.
    if (at <= 0 || at === address.address.length - 1) throw new SmtpError(553, '5.1.3', `<${address.address}>: a recipient needs a domain`);
    const domain = domainOf(address.address);
    if (!(await deps.store.isLocalDomain(domain))) {
      recipients.set(address, { address: address.address, userId: null });
      return;
    }
    const user = await deps.store.user(`${address.address.slice(0, at)}@${domain}`.toLowerCase());
    // RFC 5321 §4.2.2 550 / RFC 3463 X.1.1: a local domain, no such user.
    if (!user) throw smtpErrors.userUnknown(address.address);
    recipients.set(address, { address: address.address, userId: user.id });
  }

  async function accept(session: SMTPServerSession, raw: Buffer, ingressId: string, receivedAt: number): Promise<string> {
    const userId = session.user;
    if (!userId || !session.envelope.mailFrom) throw smtpErrors.temporaryFailure();
    const local = new Map<string, string>();
    const remote: string[] = [];
    for (const rcpt of session.envelope.rcptTo) {
      const r = recipients.get(rcpt);
      if (!r) continue;
      if (r.userId === null) remote.push(r.address);
      else if (!local.has(r.userId)) local.set(r.userId, r.address);
    }
    if (local.size === 0 && remote.length === 0) throw smtpErrors.temporaryFailure();
    const mailFrom = session.envelope.mailFrom.address;
    const charged = local.size + remote.length;
    // Taken before the append, so that concurrent connections of one user cannot overrun it.
    await limits.charge(userId, charged);
    let records: ProduceRecord[];
    try {
      const rawBlob = await deps.blobs.put(raw);
      const routed = routeSubmission({ ingressId, userId, mailFrom, remoteAddress: session.remoteAddress, helo: session.hostNameAppearsAs || '', receivedAt, rawBlob, size: raw.length, local, remote });
      records = [
        ...routed.received.map((value) => ({ topic: receivedTopic, key: value.userId, value: deps.encodeReceived(value) })),
        ...routed.outbound.map((value) => ({ topic: outboundTopic, key: value.domain, value: deps.encodeOutbound(value) })),
      ];
      // One append, durable when it resolves (Log.produce): only then is 250 safe.
      await deps.log.produce(records);
      logger.info({ ingressId, user: userId, mailFrom, local: [...local.values()], remote, size: raw.length, rawBlob }, 'message submitted');
    } catch (err) {
      logger.error({ err, ingressId, user: userId }, 'could not store a submitted message; answering 451');
      await limits.refund(userId, charged);
      throw smtpErrors.temporaryFailure();
    }
    deps.metrics?.accepted?.(local.size + remote.length);
    return `2.0.0 Ok: queued as ${ingressId}`;
  }

  function onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void): void {
    const ingressId = randomUUID();
    const received = new Date();
    const data = collectData(stream, session.remoteAddress, logger, callback);
    stream.once('end', () => {
      const work = (async () => {
        // RFC 1870 §6.2: the message exceeds the fixed maximum size.
        const body = data.body();
        if (body === null) throw smtpErrors.messageTooBig();
        // RFC 5321 §2.3.8: lines end with CRLF (see smtp-mx.ts on SMTP smuggling).
        if (findBareLineBreak(body, 0) !== -1) throw smtpErrors.bareLineBreak();
        // RFC 5322 §3.6.2: the author(s) — each must be the authenticated user.
        const authors = fromAddresses(body);
        if (authors.length === 0) throw new SmtpError(550, '5.6.0', 'The message has no From: header (RFC 5322 §3.6)');
        const foreign = authors.find((a) => a !== session.user);
        if (foreign !== undefined) throw smtpErrors.senderNotOwned(`From: <${foreign}>`);
        const rcpts = session.envelope.rcptTo;
        // RFC 5321 §4.4: the trace header, protocol ESMTPSA for TLS + AUTH (RFC 3848).
        const header = receivedHeader({
          helo: session.hostNameAppearsAs || '',
          clientHostname: session.clientHostname || '',
          remoteAddress: session.remoteAddress,
          hostname: deps.hostname,
          protocol: session.transmissionType,
          id: ingressId,
          recipient: rcpts.length === 1 ? rcpts[0].address : undefined,
          date: received,
        });
        return accept(session, Buffer.concat([Buffer.from(header, 'utf8'), body]), ingressId, received.getTime());
      })();
      inflight.add(work);
      work.then(
        (reply) => callback(null, reply),
        (err: unknown) => fail((e) => callback(e), err, 'DATA', { ingressId }),
      ).finally(() => inflight.delete(work));
    });
  }

  function make(implicitTls: boolean): SMTPServer {
    const options: SMTPServerOptions = {
      name: deps.hostname,
      banner: 'Sluice submission',
      heloResponse: '%s greets %s',
      logger: false,
      secure: implicitTls,
      key: deps.tls.key,
      cert: deps.tls.cert,
      size: maxSize,
      hideENHANCEDSTATUSCODES: false,
      hideDSN: true,
      hideREQUIRETLS: true,
      // RFC 4954 §4: PLAIN and LOGIN, only once the connection is encrypted (smtp-server answers
      // AUTH before STARTTLS with 538, rewritten above); MAIL without AUTH gets 530.
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: false,
      allowInsecureAuth: false,
      authRequiredMessage: 'Authentication required',
      disabledCommands: ['WIZ', 'SHELL', 'KILL'],
      maxRecipients: deps.maxRecipients ?? 100,
      maxCommandLength: MAX_COMMAND_LENGTH,
      socketTimeout: deps.idleTimeoutMs ?? 5 * 60_000,
      closeTimeout: deps.closeTimeoutMs ?? 5000,
      disableReverseLookup: true,
      onAuth,
      onMailFrom,
      onRcptTo(address, session, callback) {
        checkRecipient(address, session).then(
          () => callback(),
          (err: unknown) => fail(callback, err, 'recipient lookup', { recipient: address.address }),
        );
      },
      onData,
    };
    const server = createHookedServer(options, (connection) => {
      hookConnection(connection);
      // RFC 6409 submission has no greeting pause (an MX's anti-spam check): greet at once, not
      // after smtp-server's fixed 100 ms on plain connections.
      greetAfter(connection, 0);
    });
    server.on('error', (err: Error & { remoteAddress?: string }) => {
      logger.warn({ err: err.message, code: (err as NodeJS.ErrnoException).code, remoteAddress: err.remoteAddress }, 'submission connection error');
    });
    return server;
  }

  return {
    listen(port, host, implicitTls) {
      const server = make(implicitTls);
      servers.push(server);
      return new Promise((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(port, host, () => {
          server.server.off('error', reject);
          const address = server.server.address();
          const bound = typeof address === 'object' && address ? address.port : port;
          logger.info({ host, port: bound, implicitTls, maxSize }, 'SMTP submission listening');
          resolve({ port: bound });
        });
      });
    },
    async close() {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await Promise.allSettled([...inflight]);
    },
  };
}
