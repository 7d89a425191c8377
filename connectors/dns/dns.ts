/**
 * DNS for the sending flow (DESIGN.md §3 `connectors/dns/`): where to deliver mail for a domain
 * (RFC 5321 §5.1) and TXT records (DKIM keys, SPF, DMARC). Implemented over `node:dns` in
 * `node.ts`; resolvers come from config `dns.servers` (default: the system's).
 */

/** One host to try for a domain, in the order of `mailHosts`. */
export interface MailHost {
  /** The MX target (or the domain itself for the implicit MX), lowercase, without the final dot. */
  readonly exchange: string;
  readonly preference: number;
  /** Its IPv4 then IPv6 addresses. */
  readonly addresses: readonly string[];
  /** True when there was no MX record and the domain's own addresses are used (RFC 5321 §5.1). */
  readonly implicit: boolean;
}

/**
 * A lookup failed. `temporary`: try again later (SERVFAIL, timeout, no answer from the
 * resolvers) — a 4xx-like outcome; else permanent (no such domain, null MX, no usable host) — a
 * 5xx-like outcome for the recipients of that domain.
 */
export class DnsError extends Error {
  constructor(
    message: string,
    readonly temporary: boolean,
    /** node:dns error code when there was one (ENOTFOUND, ESERVFAIL, ETIMEOUT …). */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'DnsError';
  }
}

export interface DnsResolver {
  /**
   * The hosts that receive mail for `domain`, most preferred first (RFC 5321 §5.1): its MX
   * records by preference, equal preferences in random order, each with its addresses, hosts
   * without addresses left out; with no MX record, the domain's own A/AAAA as an implicit MX.
   * Throws DnsError: permanent for a domain that does not exist, a null MX (RFC 7505), or
   * MX hosts none of which has an address; temporary when a lookup could not be answered.
   */
  mailHosts(domain: string): Promise<MailHost[]>;
  /** IPv4 then IPv6 addresses of `host`; [] when it has none. Throws DnsError as above. */
  addresses(host: string): Promise<string[]>;
  /** The TXT records of `name`, each record's strings joined (RFC 6376 §3.6.2.2, RFC 7208 §3.3); [] when none. */
  txt(name: string): Promise<string[]>;
}
