/** RFC 2449 §5-6: the CAPA list. */

export interface CapabilityOptions {
  readonly secure: boolean;
  readonly plaintextAuthAllowed: boolean;
}

export function pop3Capabilities(options: CapabilityOptions): string[] {
  return [
    'TOP', // RFC 2449 §6.1
    // RFC 2449 §6.3, RFC 2595 §4: no USER and no SASL mechanism while they would be refused.
    ...(options.plaintextAuthAllowed ? ['USER', 'SASL PLAIN'] : []),
    'RESP-CODES', // RFC 2449 §6.4
    'AUTH-RESP-CODE', // RFC 3206 §6
    'PIPELINING', // RFC 2449 §6.6
    // RFC 2449 §6.7: Sluice never removes mail the client left on the server.
    'EXPIRE NEVER',
    'UIDL', // RFC 2449 §6.8
    ...(options.secure ? [] : ['STLS']), // RFC 2595 §4
    'IMPLEMENTATION Sluice', // RFC 2449 §6.9
  ];
}
