/**
 * `SmtpClient` over nodemailer's SMTPConnection: opportunistic STARTTLS (RFC 3207; RFC 7435:
 * the certificate is not verified, a failed upgrade goes on in clear), PIPELINING (RFC 2920)
 * when the server offers it, EHLO with this server's name (RFC 5321 §4.1.1.1).
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
}

type SendError = Error & { code?: string; responseCode?: number; response?: string; rejectedErrors?: SendError[]; recipient?: string };

function oneLine(text: string | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').trim().slice(0, 900);
}

export class NodemailerSmtpClient implements SmtpClient {
  private readonly open = new Set<SMTPConnection>();

  constructor(private readonly options: NodemailerSmtpClientOptions) {}

  async send(target: SmtpTarget, tx: SmtpTransaction): Promise<RecipientReply[]> {
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
    this.open.add(connection);
    // Errors come as events (connecting) or through send's callback (in a transaction); an
    // error event with nobody waiting must not crash the process.
    connection.on('error', () => undefined);
    let connected = false;
    const where = `${target.host} [${target.address}]:${target.port}`;
    try {
      await new Promise<void>((resolve, reject) => {
        const refused = (err?: SendError) => reject(new SmtpConnectError(`${where}: ${oneLine(err ? (err.response ?? err.message) : 'connection closed')}`, err?.responseCode ?? 0));
        connection.once('error', refused);
        connection.once('end', () => refused());
        connection.connect((err?: Error) => {
          connection.off('error', refused);
          if (err) return refused(err as SendError);
          connected = true;
          resolve();
        });
      });
      return await new Promise<RecipientReply[]>((resolve) => {
        // A session that ends without a reply to the transaction: no code, temporary.
        // (A turn later: an error's own callback, which carries its reply code, comes first.)
        connection.once('end', () => setImmediate(() => resolve(all(tx.to, 0, `${where}: connection closed during the transaction`))));
        connection.send({ from: tx.from, to: [...tx.to] }, tx.message, (err, info) => resolve(replies(tx.to, err as SendError | null, info)));
      });
    } finally {
      this.open.delete(connection);
      // RFC 5321 §4.1.1.10: QUIT ends the session; a broken one is just closed.
      if (connected) connection.quit();
      else connection.close();
    }
  }

  async close(): Promise<void> {
    for (const c of this.open) c.close();
    this.open.clear();
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
