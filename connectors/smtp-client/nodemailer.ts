/**
 * `SmtpClient` over nodemailer's SMTPConnection: opportunistic STARTTLS (RFC 3207; RFC 7435:
 * the certificate is not verified, a failed upgrade goes on in clear), PIPELINING (RFC 2920)
 * when the server offers it, EHLO with this server's name (RFC 5321 §4.1.1.1).
 *
 * Sessions are reused, as Postfix's connection cache does: after a transaction the session is
 * kept open, idle, for `idleTimeoutMs` (default 5 s); the next transaction to the same server
 * (address, port, name) takes it and starts with RSET (RFC 5321 §4.1.1.5), which also proves it
 * still alive — a session that fails RSET or that the server closed is dropped and a new one
 * opened, before anything of the transaction was sent. A session that breaks during a
 * transaction (no reply, timeout) is closed, never reused; its transaction's recipients get
 * code 0 (temporary) and the next transaction opens a new session.
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { SmtpConnectError, type RecipientReply, type SmtpClient, type SmtpTarget, type SmtpTransaction } from './smtp-client.ts';

export interface NodemailerSmtpClientOptions {
  /** Our name in EHLO. */
  readonly hostname: string;
  /** TCP connect and greeting timeout, ms (default 30 s). */
  readonly connectTimeoutMs?: number;
  /** Inactivity timeout during the session, ms (RFC 5321 §4.5.3.2: 5 min, 10 min after DATA's end). */
  readonly socketTimeoutMs?: number;
  /** How long a session stays open, idle, for the next transaction to the same server, ms (default 5 s; 0: QUIT after each). */
  readonly idleTimeoutMs?: number;
}

type SendError = Error & { code?: string; responseCode?: number; response?: string; rejectedErrors?: SendError[]; recipient?: string };

interface Session {
  readonly connection: SMTPConnection;
  readonly key: string;
  /** Set once the session cannot take another transaction. */
  broken: boolean;
  idleTimer?: NodeJS.Timeout;
}

function oneLine(text: string | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').trim().slice(0, 900);
}

export class NodemailerSmtpClient implements SmtpClient {
  private readonly open = new Set<Session>();
  /** Idle sessions per server, the most recently used last. */
  private readonly idle = new Map<string, Session[]>();
  private opened = 0;

  constructor(private readonly options: NodemailerSmtpClientOptions) {}

  /** Sessions opened since start (for tests and metrics). */
  get sessionsOpened(): number {
    return this.opened;
  }

  async send(target: SmtpTarget, tx: SmtpTransaction): Promise<RecipientReply[]> {
    const key = `${target.address}|${target.port}|${target.host}`;
    const session = (await this.reuse(key)) ?? (await this.connect(target, key));
    const where = `${target.host} [${target.address}]:${target.port}`;
    try {
      return await new Promise<RecipientReply[]>((resolve) => {
        // A session that ends without a reply to the transaction: no code, temporary.
        // (A turn later: an error's own callback, which carries its reply code, comes first.)
        const ended = () => {
          session.broken = true;
          setImmediate(() => resolve(all(tx.to, 0, `${where}: connection closed during the transaction`)));
        };
        session.connection.once('end', ended);
        session.connection.send({ from: tx.from, to: [...tx.to] }, tx.message, (err, info) => {
          session.connection.off('end', ended);
          const e = err as SendError | null;
          // No reply code: timeout, connection lost, a local error mid-way — the session is unusable.
          if (e && !e.responseCode) session.broken = true;
          resolve(replies(tx.to, e, info));
        });
      });
    } finally {
      this.release(session);
    }
  }

  /** An idle session to `key` that answered RSET, or undefined. */
  private async reuse(key: string): Promise<Session | undefined> {
    const list = this.idle.get(key);
    for (let session = list?.pop(); session; session = list?.pop()) {
      clearTimeout(session.idleTimer);
      // RFC 5321 §4.1.1.5: RSET clears any transaction state before the next MAIL.
      const ok = await new Promise<boolean>((resolve) => {
        const ended = () => resolve(false);
        session.connection.once('end', ended);
        session.connection.reset((err) => {
          session.connection.off('end', ended);
          resolve(!err);
        });
      });
      if (ok) return session;
      session.broken = true;
      this.discard(session);
    }
    if (list && list.length === 0) this.idle.delete(key);
    return undefined;
  }

  private async connect(target: SmtpTarget, key: string): Promise<Session> {
    const connection = new SMTPConnection({
      host: target.address,
      port: target.port,
      name: this.options.hostname,
      secure: false,
      opportunisticTLS: true,
      tls: { rejectUnauthorized: false, servername: /^[\d.:]+$/.test(target.host) ? undefined : target.host },
      connectionTimeout: this.options.connectTimeoutMs ?? 30_000,
      greetingTimeout: this.options.connectTimeoutMs ?? 30_000,
      socketTimeout: this.options.socketTimeoutMs ?? 10 * 60_000,
    });
    const session: Session = { connection, key, broken: false };
    this.open.add(session);
    this.opened++;
    // Errors come as events (connecting, idle) or through send's callback (in a transaction);
    // an error event with nobody waiting must not crash the process.
    connection.on('error', () => undefined);
    const where = `${target.host} [${target.address}]:${target.port}`;
    try {
      await new Promise<void>((resolve, reject) => {
        const refused = (err?: SendError) => reject(new SmtpConnectError(`${where}: ${oneLine(err ? (err.response ?? err.message) : 'connection closed')}`, err?.responseCode ?? 0));
        connection.once('error', refused);
        connection.once('end', () => refused());
        connection.connect((err?: Error) => {
          connection.off('error', refused);
          if (err) return refused(err as SendError);
          resolve();
        });
      });
    } catch (err) {
      this.open.delete(session);
      connection.close();
      throw err;
    }
    connection.removeAllListeners('end');
    return session;
  }

  /** After a transaction: kept idle for the next one, or ended. */
  private release(session: Session): void {
    const idleMs = this.options.idleTimeoutMs ?? 5_000;
    if (session.broken || idleMs <= 0 || !this.open.has(session)) return this.discard(session);
    const list = this.idle.get(session.key) ?? [];
    list.push(session);
    this.idle.set(session.key, list);
    session.idleTimer = setTimeout(() => {
      const i = list.indexOf(session);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0 && this.idle.get(session.key) === list) this.idle.delete(session.key);
      this.discard(session);
    }, idleMs);
    session.idleTimer.unref();
  }

  private discard(session: Session): void {
    clearTimeout(session.idleTimer);
    this.open.delete(session);
    // RFC 5321 §4.1.1.10: QUIT ends the session; a broken one is just closed.
    if (session.broken) session.connection.close();
    else session.connection.quit();
  }

  async close(): Promise<void> {
    for (const s of this.open) {
      clearTimeout(s.idleTimer);
      s.connection.close();
    }
    this.open.clear();
    this.idle.clear();
  }
}

function all(recipients: readonly string[], code: number, response: string): RecipientReply[] {
  return recipients.map((recipient) => ({ recipient, code, response }));
}

/** One reply per recipient from nodemailer's outcome of `send`. */
function replies(recipients: readonly string[], err: SendError | null, info: SMTPConnection.SentMessageInfo | undefined): RecipientReply[] {
  const rejected = new Map<string, SendError>();
  for (const e of (err?.rejectedErrors ?? (info as { rejectedErrors?: SendError[] } | undefined)?.rejectedErrors ?? [])) {
    if (e.recipient) rejected.set(e.recipient, e);
  }
  return recipients.map((recipient) => {
    const own = rejected.get(recipient);
    if (own) return { recipient, code: own.responseCode ?? 0, response: oneLine(own.response ?? own.message) };
    if (err) {
      // MAIL FROM refused, DATA refused, or the session broke: the same for every recipient not
      // refused on its own. No code (timeout after the final dot …): temporary (RFC 5321 §6.1).
      return { recipient, code: err.responseCode ?? 0, response: oneLine(err.response ?? err.message) };
    }
    return { recipient, code: 250, response: oneLine(info?.response) };
  });
}
