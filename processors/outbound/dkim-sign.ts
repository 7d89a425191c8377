/**
 * A DKIM-Signature for an outgoing message (RFC 6376), rsa-sha256, made with the domain's key as
 * a parsed `KeyObject` (the key store keeps one per domain). mailauth's `dkimSign`, used before,
 * imports the PEM key again for every signature and canonicalizes the body line by line in
 * JavaScript: on the send bench's profile that was a fifth of the pipeline thread's CPU. Here the
 * canonicalization is a few regular expressions over the whole message and hashing is native.
 * Tests check every signature with mailauth's verifier (prepare.test.ts, dkim-sign.test.ts).
 */
import { createHash, sign, type KeyObject } from 'node:crypto';

export type Canonicalization = 'relaxed/relaxed' | 'relaxed/simple' | 'simple/simple' | 'simple/relaxed';

/** Fields signed when present (mailauth's default list, so signatures cover what they did). */
export const SIGNED_FIELDS: ReadonlySet<string> = new Set(
  ('from:sender:reply-to:subject:date:message-id:to:cc:mime-version:content-type:content-transfer-encoding:content-id:' +
    'content-description:resent-date:resent-from:resent-sender:resent-to:resent-cc:resent-message-id:in-reply-to:references:' +
    'list-id:list-help:list-unsubscribe:list-subscribe:list-post:list-owner:list-archive:bimi-selector').split(':'),
);

export interface DkimSignOptions {
  /** d= (RFC 6376 §3.5). */
  readonly domain: string;
  /** s= */
  readonly selector: string;
  readonly key: KeyObject;
  /** c= header/body (RFC 6376 §3.4). */
  readonly canonicalization: Canonicalization;
  /** t=, ms since the epoch (written in seconds). */
  readonly time: number;
}

interface Field {
  /** As written, with its folding, without the final line break. */
  readonly raw: string;
  readonly name: string;
}

/** The header fields (RFC 5322 §2.2) and the body, as latin1 strings (one char per byte). */
function split(message: Buffer): { fields: Field[]; body: string } {
  const text = message.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const header = end === -1 ? text : text.slice(0, end);
  const body = end === -1 ? '' : text.slice(end).replace(/^\r?\n\r?\n/, '');
  const fields: Field[] = [];
  for (const line of header.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) {
      const last = fields.pop()!;
      fields.push({ raw: `${last.raw}\r\n${line}`, name: last.name });
    } else if (line !== '') {
      const colon = line.indexOf(':');
      fields.push({ raw: line, name: (colon === -1 ? line : line.slice(0, colon)).replace(/[ \t]+$/, '').toLowerCase() });
    }
  }
  return { fields, body };
}

/** RFC 6376 §3.4.1 simple / §3.4.2 relaxed, with the final CRLF. */
function canonicalField(raw: string, relaxed: boolean): string {
  if (!relaxed) return `${raw}\r\n`;
  const colon = raw.indexOf(':');
  const name = raw.slice(0, colon).replace(/[ \t]+$/, '').toLowerCase();
  const value = raw
    .slice(colon + 1)
    .replace(/\r?\n(?=[ \t])/g, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
  return `${name}:${value}\r\n`;
}

/** RFC 6376 §3.4.3 simple / §3.4.4 relaxed. */
export function canonicalBody(body: string, relaxed: boolean): string {
  let lines = body.split(/\r?\n/);
  if (relaxed) lines = lines.map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  let n = lines.length;
  while (n > 0 && lines[n - 1] === '') n--;
  if (n === 0) return relaxed ? '' : '\r\n';
  return lines.slice(0, n).join('\r\n') + '\r\n';
}

/**
 * The `DKIM-Signature:` field to put on top of the message (RFC 6376 §5.6), with its CRLF. The
 * RSA signature (~0.5 ms for a 2048-bit key) is made on libuv's thread pool, not on the caller's.
 */
export async function dkimSignature(message: Buffer, o: DkimSignOptions): Promise<string> {
  const [headerCanon, bodyCanon] = o.canonicalization.split('/');
  const relaxedHeader = headerCanon === 'relaxed';
  const { fields, body } = split(message);
  const bh = createHash('sha256').update(canonicalBody(body, bodyCanon === 'relaxed'), 'latin1').digest('base64');
  // RFC 6376 §5.4.2: instances of one name are signed from the bottom up.
  const signed = fields.filter((f) => SIGNED_FIELDS.has(f.name)).reverse();
  const names = signed.map((f) => f.raw.slice(0, f.raw.indexOf(':')).replace(/[ \t]+$/, ''));
  const field =
    `DKIM-Signature: v=1; a=rsa-sha256; c=${o.canonicalization}; d=${o.domain}; s=${o.selector};\r\n` +
    `\tt=${Math.floor(o.time / 1000)}; h=${names.join(':')};\r\n` +
    `\tbh=${bh};\r\n\tb=`;
  // RFC 6376 §3.7: the signed fields, then this field with b= empty and no final CRLF.
  const data = signed.map((f) => canonicalField(f.raw, relaxedHeader)).join('') + canonicalField(field, relaxedHeader).slice(0, -2);
  const b = await new Promise<Buffer>((resolve, reject) =>
    sign('sha256', Buffer.from(data, 'latin1'), o.key, (err, signature) => (err ? reject(err) : resolve(signature))),
  );
  return `${field}${b.toString('base64')}\r\n`;
}
