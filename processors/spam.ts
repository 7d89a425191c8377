/**
 * The `spam` stage: ParsedMail → ParsedMail, for mail that came in over SMTP (IMAP APPEND and
 * imports are the user's own mail and pass unchanged).
 *
 * 1. Sender authentication with mailauth, through the configured DNS resolver: SPF (RFC 7208),
 *    DKIM (RFC 6376), DMARC (RFC 7489), ARC (RFC 8617). The result is an
 *    `Authentication-Results:` field (RFC 8601) with this server's name as authserv-id, added
 *    on top of the stored message, with `Received-SPF:` (RFC 7208 §9.1).
 * 2. A score: built-in checks (DMARC failure under the domain's policy, SPF/DKIM failure, header
 *    sanity, the user's Bayes model trained by moving mail to and from Junk) plus rspamd's score when `scan.rspamd` is configured (`/checkv2`).
 * 3. Spam (score ≥ `spam.threshold`, or rspamd's action `reject`, `soft reject`, `add header`,
 *    `rewrite subject`) is delivered to Junk with the `$Junk` keyword — never to INBOX. The
 *    message was accepted with `250` already, so even `reject` lands in Junk: a bounce now
 *    would be backscatter. `X-Spam-Status:` says why.
 *
 * Authentication-Results fields that arrive claiming this server's authserv-id are forgeries
 * (a sender's own `dkim=pass`): they are deleted from the stored message (RFC 8601 §5).
 *
 * rspamd unreachable → `RetryableError` (the mail waits; it is not delivered unchecked).
 * DNS failures are not retried: mailauth reports them as `temperror` (RFC 8601 §2.7.1).
 */
import { authenticate } from 'mailauth';
import type { AuthenticateOptions } from 'mailauth';
import { z } from 'zod';
import { RetryableError, type ProcessorDefinition } from './processor.ts';
import type { ParsedMail } from '../schemas/types.ts';
import { ScannerUnavailableError, type SpamVerdict } from '../connectors/scan/scanner.ts';
import type { ScanResources, SpamPolicy } from '../connectors/scan/resources.ts';
import { addHeaders } from './mime/add-headers.ts';
import { dropHeaderFields, withoutComments } from './mime/headers.ts';
import { headerBlock } from './mime/read-message.ts';
import { spamProbability, tokenize, type BayesStore } from '../connectors/scan/bayes.ts';

const configSchema = z.object({});
export type SpamConfig = z.output<typeof configSchema>;

/** RFC 5788 / IANA IMAP keyword for junk. */
export const JUNK_KEYWORD = '$Junk';
const JUNK_ACTIONS: ReadonlySet<string> = new Set(['reject', 'soft reject', 'add header', 'rewrite subject']);

export interface Finding {
  readonly rule: string;
  readonly score: number;
}

type AuthResult = Awaited<ReturnType<typeof authenticate>>;

/** What the authentication results add to the score. */
export function authFindings(auth: AuthResult, policy: SpamPolicy): Finding[] {
  const out: Finding[] = [];
  const dmarc = auth.dmarc;
  if (dmarc && dmarc.status?.result === 'fail') {
    // RFC 7489 §6.3: the policy the Domain Owner asks receivers to apply to failing mail.
    if (dmarc.policy === 'reject') out.push({ rule: 'DMARC_POLICY_REJECT', score: policy.dmarcRejectScore });
    else if (dmarc.policy === 'quarantine') out.push({ rule: 'DMARC_POLICY_QUARANTINE', score: policy.dmarcQuarantineScore });
    else out.push({ rule: 'DMARC_POLICY_NONE', score: 0.5 });
  }
  const spf = auth.spf ? auth.spf.status?.result : undefined;
  if (spf === 'fail') out.push({ rule: 'SPF_FAIL', score: 2 });
  else if (spf === 'softfail') out.push({ rule: 'SPF_SOFTFAIL', score: 1 });
  const dkim = auth.dkim?.results ?? [];
  if (dkim.length > 0 && dkim.every((r) => r.status?.result !== 'pass')) out.push({ rule: 'DKIM_INVALID', score: 1 });
  return out;
}

/** Header sanity (RFC 5322 §3.6: From and Date are required, From and Message-ID at most once). */
export function headerFindings(mail: ParsedMail): Finding[] {
  const out: Finding[] = [];
  const count = (name: string) => (mail.headers.match(new RegExp(`^${name}:`, 'gim')) ?? []).length;
  const froms = count('from');
  if (froms === 0) out.push({ rule: 'MISSING_FROM', score: 2 });
  if (froms > 1) out.push({ rule: 'MULTIPLE_FROM', score: 3 });
  if (count('date') === 0) out.push({ rule: 'MISSING_DATE', score: 1 });
  if (count('message-id') === 0) out.push({ rule: 'MISSING_MESSAGE_ID', score: 0.5 });
  if (count('message-id') > 1) out.push({ rule: 'MULTIPLE_MESSAGE_ID', score: 1 });
  return out;
}

/** The user's own Bayes model (trained by moving mail to and from Junk): a finding when it is sure. */
export async function bayesFindings(bayes: BayesStore | null, mail: ParsedMail): Promise<Finding[]> {
  if (!bayes) return [];
  const tokens = tokenize(mail.subject, mail.text, mail.from.map((a) => a.address));
  const p = spamProbability(await bayes.counts(mail.received.userId, tokens), tokens);
  if (p === null) return [];
  if (p >= 0.99) return [{ rule: 'BAYES_99', score: 7 }];
  if (p >= 0.9) return [{ rule: 'BAYES_90', score: 3.5 }];
  if (p <= 0.01) return [{ rule: 'BAYES_00', score: -3 }];
  return [];
}

export interface SpamDecision {
  readonly spam: boolean;
  readonly score: number;
  readonly findings: readonly Finding[];
  readonly rspamdAction: string | null;
}

export function decide(findings: readonly Finding[], rspamd: SpamVerdict | null, policy: SpamPolicy): SpamDecision {
  const all = [...findings, ...(rspamd ? [{ rule: `RSPAMD(${rspamd.action})`, score: rspamd.score }] : [])];
  const score = Math.round(all.reduce((s, f) => s + f.score, 0) * 100) / 100;
  const spam = score >= policy.threshold || (rspamd !== null && JUNK_ACTIONS.has(rspamd.action));
  return { spam, score, findings: all, rspamdAction: rspamd?.action ?? null };
}

/**
 * The authserv-id of an Authentication-Results value (RFC 8601 §2.2: `authserv-id [ CFWS
 * authres-version ] ( no-result / 1*resinfo )`), lowercase; '' when there is none.
 */
export function authservId(value: string): string {
  return withoutComments(value).trim().split(/[\s;]/, 1)[0].toLowerCase();
}

/**
 * RFC 8601 §5: an MTA MUST delete the Authentication-Results fields that claim its own
 * authserv-id but came from outside its trust boundary. Mail reaching this stage came from an
 * SMTP peer, so every such field is a forgery. `mail.headers` follows the bytes.
 */
export function dropForgedAuthResults(raw: Buffer, mail: ParsedMail, hostname: string): { raw: Buffer; mail: ParsedMail; dropped: number } {
  const own = hostname.toLowerCase();
  const out = dropHeaderFields(raw, (f) => f.name === 'authentication-results' && authservId(f.value) === own);
  if (out.dropped === 0) return { raw, mail, dropped: 0 };
  return { raw: out.raw, mail: { ...mail, headers: headerBlock(out.raw) }, dropped: out.dropped };
}

function statusField(d: SpamDecision, policy: SpamPolicy): string {
  const tests = d.findings.map((f) => `${f.rule}=${f.score}`).join(',') || 'none';
  return `X-Spam-Status: ${d.spam ? 'Yes' : 'No'}, score=${d.score} required=${policy.threshold} tests=${tests}`;
}

export const spamProcessor: ProcessorDefinition<SpamConfig, ParsedMail, ParsedMail> = {
  name: 'spam',
  spec: {
    description: 'SPF/DKIM/DMARC/ARC (mailauth) into Authentication-Results, a score from built-in checks and rspamd; spam goes to Junk.',
    input: 'ParsedMail',
    output: 'ParsedMail',
    config: configSchema,
  },
  create(_config, resources) {
    const scan: ScanResources | undefined = resources.scan;
    if (!scan) throw new Error('spam stage: no scan resources (the composition root builds them)');
    const { blobs, logger } = resources;
    return {
      async process(record) {
        const mail = record.value;
        const received = mail.received;
        if (received.source !== 'smtp') return [{ key: record.key, value: mail }];
        const raw = await blobs.get(received.rawBlob);
        const options: AuthenticateOptions = {
          ip: received.remoteAddress,
          helo: received.helo,
          sender: received.mailFrom,
          mta: scan.hostname,
          disableBimi: true,
          ...(scan.resolver ? { resolver: scan.resolver as NonNullable<AuthenticateOptions['resolver']> } : {}),
        };
        const auth = await authenticate(raw, options);
        let rspamd: SpamVerdict | null = null;
        if (scan.spam) {
          try {
            rspamd = await scan.spam.check(raw, {
              remoteAddress: received.remoteAddress,
              helo: received.helo,
              mailFrom: received.mailFrom,
              recipient: received.recipient,
              queueId: received.ingressId,
            });
          } catch (err) {
            if (err instanceof ScannerUnavailableError) throw new RetryableError(err.message, { cause: err });
            throw err;
          }
        }
        const policy = scan.spamPolicy;
        const decision = decide([...authFindings(auth, policy), ...headerFindings(mail), ...(await bayesFindings(scan.bayes, mail))], rspamd, policy);
        // mailauth's block: Received-SPF and Authentication-Results (RFC 8601 §2.2), CRLF-separated.
        const authFields = auth.headers.split(/\r?\n(?![ \t])/).filter((f) => f.trim() !== '');
        const fields = [...authFields, statusField(decision, policy), `X-Spam-Score: ${decision.score}`];
        const cleaned = dropForgedAuthResults(raw, mail, scan.hostname);
        if (cleaned.dropped > 0) logger.warn({ ingressId: received.ingressId, userId: received.userId, fields: cleaned.dropped }, 'spam: deleted Authentication-Results claiming this server (RFC 8601 §5)');
        // The rare forged field costs a rewritten copy; the added fields travel on the record.
        const base = cleaned.dropped > 0 ? { ...cleaned.mail, received: { ...received, rawBlob: await blobs.put(cleaned.raw), size: cleaned.raw.length } } : mail;
        let out = addHeaders(base, fields);
        if (decision.spam && out.received.mailbox === 'INBOX') {
          const flags = out.received.flags.includes(JUNK_KEYWORD) ? out.received.flags : [...out.received.flags, JUNK_KEYWORD];
          out = { ...out, received: { ...out.received, mailbox: 'Junk', flags } };
          logger.info({ ingressId: received.ingressId, userId: received.userId, score: decision.score, rspamd: decision.rspamdAction }, 'spam: delivered to Junk');
        }
        return [{ key: record.key, value: out }];
      },
    };
  },
};
