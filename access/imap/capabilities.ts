/**
 * The CAPABILITY list (RFC 9051 §6.1.1, §7.2.2), which depends on the connection's state:
 * STARTTLS and LOGINDISABLED before TLS (RFC 9051 §6.2.1, §6.2.3), AUTH= only before
 * authentication, COMPRESS=DEFLATE once authenticated and not yet compressing (RFC 4978 §3).
 */

export interface CapabilityState {
  readonly tls: boolean;
  readonly authenticated: boolean;
  readonly compressed: boolean;
  /** LOGIN and AUTHENTICATE are allowed without TLS. */
  readonly allowPlaintextAuth: boolean;
  /** APPENDLIMIT (RFC 7889). */
  readonly maxMessageSize: number;
}

/** Announced in every state (RFC 9051 and the extensions issue 3 asks for). */
const EXTENSIONS = [
  'IMAP4rev1',
  'IMAP4rev2',
  'LITERAL+',
  'SASL-IR',
  'ID',
  'ENABLE',
  'IDLE',
  'NAMESPACE',
  'UIDPLUS',
  'MOVE',
  'UNSELECT',
  'CHILDREN',
  'SPECIAL-USE',
  'CREATE-SPECIAL-USE',
  'CONDSTORE',
  'QRESYNC',
  'ESEARCH',
  'SEARCHRES',
  'SORT',
  'THREAD=REFERENCES',
  'THREAD=ORDEREDSUBJECT',
  'LIST-EXTENDED',
  'LIST-STATUS',
  'STATUS=SIZE',
  'QUOTA',
  'QUOTA=RES-STORAGE',
  'QUOTA=RES-MESSAGE',
  'BINARY',
];

export function capabilities(state: CapabilityState): string[] {
  const list = [...EXTENSIONS, `APPENDLIMIT=${state.maxMessageSize}`];
  if (!state.authenticated) {
    if (!state.tls) list.push('STARTTLS');
    // RFC 9051 §6.2.3: LOGINDISABLED when LOGIN (and here AUTHENTICATE) needs TLS first.
    if (!state.tls && !state.allowPlaintextAuth) list.push('LOGINDISABLED');
    else list.push('AUTH=PLAIN');
  } else if (!state.compressed) {
    list.push('COMPRESS=DEFLATE');
  }
  return list;
}

export function capabilityLine(state: CapabilityState): string {
  return capabilities(state).join(' ');
}
