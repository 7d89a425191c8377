/**
 * DKIM signing keys of the local domains (RFC 6376): one RSA key per domain under a selector,
 * made by `sluice domain add` (or `domain dkim`, or the `prepare` stage when a domain has none
 * yet), used by `prepare` to sign outgoing mail. The operator publishes the public half as a
 * TXT record at `<selector>._domainkey.<domain>` (RFC 6376 §3.6.2.1).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';

/** The selector of keys made here (RFC 6376 §3.1 `s=`). */
export const DEFAULT_SELECTOR = 'sluice';

export interface DkimKey {
  readonly domain: string;
  readonly selector: string;
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** The same key, parsed once (node:crypto). */
  readonly privateKey: KeyObject;
}

export interface DkimKeys {
  /** The domain's key, or null when it has none. */
  get(domain: string): Promise<DkimKey | null>;
  /** The domain's key, made (RSA 2048, RFC 8301 §3.2) when it has none; `created` says which. */
  ensure(domain: string): Promise<{ key: DkimKey; created: boolean }>;
}

/** Where the TXT record goes: `<selector>._domainkey.<domain>` (RFC 6376 §3.6.2.1). */
export function dkimRecordName(key: DkimKey): string {
  return `${key.selector}._domainkey.${key.domain}`;
}

/** The TXT record's text (RFC 6376 §3.6.1): `v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo>`. */
export function dkimRecordText(key: DkimKey): string {
  const spki = createPublicKey(key.privateKey).export({ type: 'spki', format: 'der' });
  return `v=DKIM1; k=rsa; p=${spki.toString('base64')}`;
}

/** The record as a zone-file line, split into 255-byte strings (RFC 7208 §3.3 / RFC 1035 §3.3.14). */
export function dkimZoneLine(key: DkimKey): string {
  const text = dkimRecordText(key);
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += 255) parts.push(`"${text.slice(i, i + 255)}"`);
  return `${dkimRecordName(key)}. IN TXT ( ${parts.join(' ')} )`;
}
