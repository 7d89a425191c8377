/**
 * The SMTP MX listener (DESIGN.md §2, receiving flow): mail from the internet for local users.
 *
 * Built on nodemailer's smtp-server, which speaks the protocol (EHLO, PIPELINING, STARTTLS, dot
 * unstuffing, SIZE); this module decides who may receive (no open relay), stores the raw message
 * in the blob store (claim check), puts one `mail.received` record per recipient on the log and
 * only then answers 250 (DESIGN.md §1.1: no acknowledged mail is ever lost).
 *
 * SMTP smuggling (RFC 5321 §2.3.8, §4.1.1.4): smtp-server ends DATA only at <CRLF>.<CRLF>, so
 * "<LF>.<LF>", "<CR>.<CR>" and "<LF>.<CR><LF>" never end the data here. A message that carries a
 * bare CR or bare LF anywhere is nevertheless refused whole with 550 (Postfix's
 * `smtpd_forbid_bare_newline = reject`): such a message could end early at the next hop that is
 * lax about line endings, and clients MUST NOT send them (§2.3.8), so refusing costs nothing real.
 */
import { randomUUID } from 'node:crypto';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { Logger } from 'pino';
import type { Log, ProduceRecord } from '../connectors/log/log.ts';
import type { BlobStore } from '../connectors/blob/blob.ts';
import type { MailStore } from '../connectors/store/store.ts';
import type { MailReceived } from '../schemas/types.ts';
import { ENHANCED_CODE_PREFIX, SmtpError, smtpErrors } from './smtp-errors.ts';
import { findBareLineBreak } from './line-endings.ts';
import { collectData } from './collect-data.ts';
import { createHookedServer, greetAfter, type SmtpConnection } from './hooked-server.ts';
import { receivedHeader } from './received-header.ts';

export interface MxMetrics {
  /** A message was accepted for `recipients` local recipients. */
  accepted?(recipients: number): void;
  /** A reply with this code (≥ 400) was sent. */
  rejected?(code: number): void;
}

export interface MxDeps {
  readonly log: Log;
  readonly blobs: BlobStore;
  readonly store: MailStore;
  readonly logger: Logger;
  /** Our host name: banner, EHLO and the "by" clause of the Received header. */
  readonly hostname: string;
  /** RFC 1870 SIZE limit in bytes; default 50 MiB. */
  readonly maxSize?: number;
  /** Offers STARTTLS (RFC 3207) when given. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Recipients per transaction (RFC 5321 §4.5.3.1.8: at least 100); default 100. */
  readonly maxRecipients?: number;
  /** RFC 5321 §4.5.3.2: idle timeout, default 5 minutes. */
  readonly idleTimeoutMs?: number;
  /** Default 'mail.received'. */
  readonly topic?: string;
  /** Avro encoder of MailReceived (the composition root passes `schemaType('MailReceived').toBuffer`). */
  readonly encode: (value: MailReceived) => Buffer;
  readonly metrics?: MxMetrics;
  /** Reverse DNS of the client for the Received header; default true. */
  readonly reverseLookup?: boolean;
  /** How long close() lets open connections finish before cutting them (ms); default 5000. */
  readonly closeTimeoutMs?: number;
  /**
   * Pause before the 220 greeting (ms), in which a client that talks first is refused — an
   * anti-spam check (RFC 5321 §4.3.1: the client waits for the greeting). smtp-server fixes it
   * at 100 ms; default here 0, as Postfix's smtpd (its postscreen makes it opt-in).
   */
  readonly greetingDelayMs?: number;
  /** Local user that receives postmaster@<each local domain> (and the domainless postmaster) when no such user exists. */
  readonly postmaster?: string;
}

export interface MxServer {
  listen(port: number, host: string): Promise<{ port: number }>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_SIZE = 50 * 1024 * 1024;
const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60 * 1000;
const DEFAULT_MAX_RECIPIENTS = 100;
/**
 * RFC 5321 §4.5.3.1.4 sets 512 octets and lets extensions raise it; with no AUTH here, 4 KiB is
 * room for any real MAIL/RCPT line with parameters and still bounds what a client can buffer.
 */
const MAX_COMMAND_LENGTH = 4096;
/** smtp-stream's error text for an over-long command line (its reply is rewritten, see `hookConnection`). */
const LINE_TOO_LONG_MESSAGE = 'Error: Command line too long';

type Connection = SmtpConnection;
type ServerCallback = (err?: Error | null) => void;

export function createMxServer(deps: MxDeps): MxServer {
  const logger = deps.logger.child({ component: 'smtp-mx' });
  const topic = deps.topic ?? 'mail.received';
  const maxSize = deps.maxSize ?? DEFAULT_MAX_SIZE;
  /** RCPT TO address object → user id, filled by onRcptTo. */
  const recipientUsers = new WeakMap<SMTPServerAddress, string>();
  const inflight = new Set<Promise<unknown>>();

  function rejected(session: SMTPServerSession, code: number, reply: string): void {
    logger.info({ remoteAddress: session.remoteAddress, helo: session.hostNameAppearsAs || undefined, code, reply }, 'smtp reply refused a command');
    deps.metrics?.rejected?.(code);
  }

  /** Replies the server's protocol code sends itself are adjusted on each connection here. */
  function hookConnection(connection: Connection): void {
    const send = connection.send.bind(connection);
    connection.send = (code, data, context) => {
      if (code === 421 && data === LINE_TOO_LONG_MESSAGE) {
        // RFC 5321 §4.5.3.1.4 / §4.2.2: "500 … command line too long". smtp-stream has already
        // dropped the line and stopped reading, so the rest of the line cannot be resynchronised:
        // after the 500 the connection is closed with 421 (§3.8: only 421 may close it).
        const error = smtpErrors.lineTooLong();
        rejected(connection.session, error.code, error.message);
        send(error.code, `${error.enhanced} ${error.text}`, false);
        send(421, `4.4.2 ${deps.hostname} Closing connection`, false);
        return;
      }
      // Our own replies (smtp-errors.ts) already carry their RFC 3463 code: send as they are.
      if (typeof data === 'string' && ENHANCED_CODE_PREFIX.test(data)) context = false;
      if (code >= 400) rejected(connection.session, code, Array.isArray(data) ? data.join(' ') : String(data ?? ''));
      send(code, data, context);
    };
  }


  async function checkRecipient(address: SMTPServerAddress): Promise<void> {
    const at = address.address.lastIndexOf('@');
    // RFC 5321 §4.1.1.3: the domainless "postmaster" must be accepted: ours is postmaster@hostname.
    const local = at === -1 ? address.address : address.address.slice(0, at);
    const domain = (at === -1 ? deps.hostname : address.address.slice(at + 1)).toLowerCase();
    // RFC 5321 §2.4: domains are case-insensitive; local parts are ours to compare, and ours are too.
    const isPostmaster = local.toLowerCase() === 'postmaster';
    if (!(await deps.store.isLocalDomain(domain)) && !(isPostmaster && at === -1)) throw smtpErrors.relayDenied();
    let user = await deps.store.user(`${local}@${domain}`.toLowerCase());
    // RFC 5321 §4.5.1: every domain must accept mail for its postmaster; without a user of that
    // name it goes to the configured postmaster.
    if (!user && isPostmaster && deps.postmaster) user = await deps.store.user(deps.postmaster);
    if (!user) throw smtpErrors.userUnknown(address.address);
    recipientUsers.set(address, user.id);
  }

  async function accept(session: SMTPServerSession, raw: Buffer, ingressId: string, receivedAt: number): Promise<string> {
    const recipients = new Map<string, string>(); // userId → envelope address
    for (const rcpt of session.envelope.rcptTo) {
      const userId = recipientUsers.get(rcpt);
      if (userId !== undefined && !recipients.has(userId)) recipients.set(userId, rcpt.address);
    }
    if (recipients.size === 0) throw smtpErrors.temporaryFailure();
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    try {
      const rawBlob = await deps.blobs.put(raw);
      const records: ProduceRecord[] = [...recipients].map(([userId, recipient]) => ({
        topic,
        key: userId,
        value: deps.encode({
          ingressId,
          userId,
          recipient,
          mailFrom,
          source: 'smtp',
          remoteAddress: session.remoteAddress,
          helo: session.hostNameAppearsAs || '',
          receivedAt,
          rawBlob,
          size: raw.length,
          mailbox: 'INBOX',
          flags: [],
        }),
      }));
      // Resolves only once durable (Log.produce): the 250 below is then safe to send.
      await deps.log.produce(records);
      logger.info({ ingressId, remoteAddress: session.remoteAddress, mailFrom, recipients: [...recipients.values()], size: raw.length, rawBlob }, 'message accepted');
    } catch (err) {
      logger.error({ err, ingressId, remoteAddress: session.remoteAddress }, 'could not store an incoming message; answering 451');
      throw smtpErrors.temporaryFailure();
    }
    deps.metrics?.accepted?.(recipients.size);
    return `2.0.0 Ok: queued as ${ingressId}`;
  }

  function onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void): void {
    const ingressId = randomUUID();
    const received = new Date();
    const rcpts = session.envelope.rcptTo;
    const header = Buffer.from(
      receivedHeader({
        helo: session.hostNameAppearsAs || '',
        clientHostname: session.clientHostname || '',
        remoteAddress: session.remoteAddress,
        hostname: deps.hostname,
        // RFC 6531 §3.7.3 UTF8SMTP[S] when SMTPUTF8 was used; else RFC 3848 (E)SMTP[S].
        protocol: session.envelope.smtpUtf8 ? session.transmissionType.replace(/^E?SMTP/, 'UTF8SMTP') : session.transmissionType,
        id: ingressId,
        recipient: rcpts.length === 1 ? rcpts[0].address : undefined,
        date: received,
      }),
      'utf8',
    );
    const data = collectData(stream, session.remoteAddress, logger, callback, header);
    stream.once('end', () => {
      const work = (async () => {
        // RFC 1870 §6.2: the message exceeds the fixed maximum size.
        const raw = data.body();
        if (raw === null) throw smtpErrors.messageTooBig();
        if (findBareLineBreak(raw, header.length) !== -1) throw smtpErrors.bareLineBreak();
        return accept(session, raw, ingressId, received.getTime());
      })();
      inflight.add(work);
      work.then(
        (reply) => callback(null, reply),
        (err: unknown) => {
          if (!(err instanceof SmtpError)) logger.error({ err, ingressId }, 'unexpected error in DATA');
          callback((err instanceof SmtpError ? err : smtpErrors.temporaryFailure()).toServerError());
        },
      ).finally(() => inflight.delete(work));
    });
  }

  const options: SMTPServerOptions = {
    name: deps.hostname,
    banner: 'Sluice',
    heloResponse: '%s greets %s',
    logger: false,
    // RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 2920 PIPELINING are on by default;
    // RFC 2034 ENHANCEDSTATUSCODES is opt-in; DSN and REQUIRETLS are not offered.
    size: maxSize,
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    hideREQUIRETLS: true,
    // No AUTH on the MX port: authenticated submission is its own listener.
    authOptional: true,
    disabledCommands: ['AUTH', 'WIZ', 'SHELL', 'KILL', ...(deps.tls ? [] : ['STARTTLS'])],
    ...(deps.tls ? { key: deps.tls.key, cert: deps.tls.cert } : {}),
    maxRecipients: deps.maxRecipients ?? DEFAULT_MAX_RECIPIENTS,
    maxCommandLength: MAX_COMMAND_LENGTH,
    socketTimeout: deps.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    closeTimeout: deps.closeTimeoutMs ?? 5000,
    disableReverseLookup: deps.reverseLookup === false,
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, callback: ServerCallback) {
      checkRecipient(address).then(
        () => callback(),
        (err: unknown) => {
          if (!(err instanceof SmtpError)) logger.error({ err, recipient: address.address }, 'recipient lookup failed; answering 451');
          callback((err instanceof SmtpError ? err : smtpErrors.temporaryFailure()).toServerError());
        },
      );
    },
    onData,
  };

  const server = createHookedServer(options, (connection) => {
    hookConnection(connection);
    // Greets after `greetingDelayMs`, not smtp-server's fixed 100 ms.
    greetAfter(connection, deps.greetingDelayMs ?? 0);
  });
  let listenError: ((err: Error) => void) | undefined;
  server.on('error', (err: Error & { remoteAddress?: string }) => {
    if (listenError) return listenError(err);
    logger.warn({ err: err.message, code: (err as NodeJS.ErrnoException).code, remoteAddress: err.remoteAddress }, 'smtp connection error');
  });

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        listenError = (err) => {
          listenError = undefined;
          reject(err);
        };
        server.listen(port, host, () => {
          listenError = undefined;
          const address = server.server.address();
          const bound = typeof address === 'object' && address ? address.port : port;
          logger.info({ host, port: bound, starttls: Boolean(deps.tls), maxSize }, 'SMTP MX listening');
          resolve({ port: bound });
        });
      });
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Let transactions that are past DATA finish: their records are produced or they answer 451.
      await Promise.allSettled([...inflight]);
    },
  };
}
