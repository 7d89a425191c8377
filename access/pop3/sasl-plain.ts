/** SASL PLAIN (RFC 4616 §2): `[authzid] NUL authcid NUL passwd`, base64 on the wire (RFC 5034 §4). */

export interface PlainCredentials {
  readonly authcid: string;
  readonly password: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The credentials of a PLAIN response, or null when it is malformed. An authorization identity
 * other than the authentication identity is refused (no proxy authorization here): null too.
 */
export function decodePlain(base64: string): PlainCredentials | null {
  if (!BASE64.test(base64)) return null;
  const text = Buffer.from(base64, 'base64').toString('utf8');
  const parts = text.split('\0');
  if (parts.length !== 3) return null;
  const [authzid, authcid, password] = parts;
  if (!authcid || !password) return null;
  if (authzid && authzid.toLowerCase() !== authcid.toLowerCase()) return null;
  return { authcid, password };
}
