/**
 * `DnsResolver` over `node:dns`'s promise `Resolver` (c-ares: it asks the configured servers
 * directly and never reads /etc/hosts), pointed at `dns.servers` when given.
 *
 * MX and address answers are cached (`answer-cache.ts`): addresses for their records' TTL, MX
 * records — whose TTL node:dns does not return — for `mxTtlMs` (default 60 s), both at most
 * `maxTtlMs`; "no such name / record" for `negativeTtlMs`; temporary failures not at all. The
 * order of equal-preference MX hosts is drawn again for every call. TXT is not cached.
 */
import { promises as dns, type RecordWithTtl, type MxRecord } from 'node:dns';
import { DnsError, type DnsResolver, type MailHost } from './dns.ts';
import { AnswerCache, type Answer, type AnswerCacheOptions } from './answer-cache.ts';

export interface NodeDnsResolverOptions {
  /** `host:port` or `host` (port 53) entries, IPv6 as `[::1]:53`; empty: the system's resolvers. */
  readonly servers?: readonly string[];
  /** Per-query timeout in ms (default 5000) and tries per server (default 2). */
  readonly timeoutMs?: number;
  readonly tries?: number;
  /** Order of equal-preference MX hosts (default Math.random; tests pass a fixed one). */
  readonly random?: () => number;
  /** The answer cache (default on, with AnswerCache's defaults); false: every call asks. */
  readonly cache?: (AnswerCacheOptions & { readonly mxTtlMs?: number }) | false;
}

/** node:dns codes for "the name exists but has no record of this type" and "no such name". */
const NO_DATA = new Set(['ENODATA']);
const NO_NAME = new Set(['ENOTFOUND']);

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

export class NodeDnsResolver implements DnsResolver {
  private readonly resolver: dns.Resolver;
  private readonly random: () => number;
  private readonly addressCache: AnswerCache<string[]> | null;
  private readonly mxCache: AnswerCache<MxRecord[]> | null;
  private readonly mxTtlMs: number;

  constructor(options: NodeDnsResolverOptions = {}) {
    this.resolver = new dns.Resolver({ timeout: options.timeoutMs ?? 5000, tries: options.tries ?? 2 });
    if (options.servers && options.servers.length > 0) this.resolver.setServers([...options.servers]);
    this.random = options.random ?? Math.random;
    const cache = options.cache ?? {};
    this.addressCache = cache ? new AnswerCache(cache) : null;
    this.mxCache = cache ? new AnswerCache(cache) : null;
    this.mxTtlMs = cache ? (cache.mxTtlMs ?? 60_000) : 0;
  }

  /** Through the cache when there is one. */
  private async answer<V>(cache: AnswerCache<V> | null, key: string, lookup: () => Promise<Answer<V>>): Promise<V> {
    if (cache) return cache.get(key, lookup);
    const answer = await lookup();
    if ('error' in answer) throw answer.error;
    return answer.value;
  }

  /** A lookup's DnsError as an answer (anything else is thrown). */
  private static failed(err: unknown): { error: DnsError } {
    if (err instanceof DnsError) return { error: err };
    throw err;
  }

  /** Runs a query; "no such record" becomes `empty`, "no such name" a permanent error, the rest temporary. */
  private async query<T>(what: string, run: () => Promise<T>, empty: T): Promise<T> {
    try {
      return await run();
    } catch (err) {
      const code = codeOf(err);
      if (code && NO_DATA.has(code)) return empty;
      if (code && NO_NAME.has(code)) throw new DnsError(`${what}: no such domain (NXDOMAIN)`, false, code);
      throw new DnsError(`${what}: lookup failed (${code ?? String(err)})`, true, code);
    }
  }

  async addresses(host: string): Promise<string[]> {
    const name = normalize(host);
    return this.answer(this.addressCache, name, () => this.lookupAddresses(name));
  }

  private async lookupAddresses(name: string): Promise<Answer<string[]>> {
    const [v4, v6] = await Promise.allSettled([
      this.query(`A ${name}`, () => this.resolver.resolve4(name, { ttl: true }), [] as RecordWithTtl[]),
      this.query(`AAAA ${name}`, () => this.resolver.resolve6(name, { ttl: true }), [] as RecordWithTtl[]),
    ]);
    const found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    // One family answering with addresses is enough. With none, a family whose lookup failed
    // decides: the host may well have addresses there (an A query that timed out while AAAA
    // had no data is a temporary failure, not "no address" — RFC 5321 §4.4.1 / §5.1).
    if (found.length === 0) {
      if (v4.status === 'rejected') return NodeDnsResolver.failed(v4.reason);
      if (v6.status === 'rejected') return NodeDnsResolver.failed(v6.reason);
    }
    // Kept for the shortest TTL of the records (RFC 2181 §5.2), the negative time if a family
    // had none, and not at all if a family's lookup failed (it may hold more addresses).
    const negative = this.addressCache?.negativeTtlMs ?? 0;
    const failedFamily = v4.status === 'rejected' || v6.status === 'rejected';
    const emptyFamily = (v4.status === 'fulfilled' && v4.value.length === 0) || (v6.status === 'fulfilled' && v6.value.length === 0);
    const ttlMs = failedFamily ? 0 : Math.min(...found.map((r) => r.ttl * 1000), emptyFamily ? negative : Infinity);
    return { value: found.map((r) => r.address), ttlMs };
  }

  private async mxRecords(name: string): Promise<MxRecord[]> {
    return this.answer(this.mxCache, name, async () => {
      try {
        const mx = await this.query(`MX ${name}`, () => this.resolver.resolveMx(name), [] as MxRecord[]);
        return { value: mx, ttlMs: mx.length > 0 ? this.mxTtlMs : (this.mxCache?.negativeTtlMs ?? 0) };
      } catch (err) {
        return NodeDnsResolver.failed(err);
      }
    });
  }

  async mailHosts(domain: string): Promise<MailHost[]> {
    const name = normalize(domain);
    const mx = await this.mxRecords(name);
    if (mx.length === 0) {
      // RFC 5321 §5.1: no MX record: the domain itself is the implicit MX, preference 0.
      const addresses = await this.addresses(name);
      if (addresses.length === 0) throw new DnsError(`${name} has no MX and no A/AAAA record`, false, 'ENODATA');
      return [{ exchange: name, preference: 0, addresses, implicit: true }];
    }
    // RFC 7505 §3: a single MX with the root "." as exchange says the domain accepts no mail.
    if (mx.some((r) => normalize(r.exchange) === '')) {
      throw new DnsError(`${name} accepts no mail (null MX, RFC 7505)`, false, 'NULLMX');
    }
    // RFC 5321 §5.1: lowest preference first; equal preferences SHOULD be tried in random order.
    const keyed = mx.map((r) => ({ r, tie: this.random() }));
    keyed.sort((a, b) => a.r.priority - b.r.priority || a.tie - b.tie);
    const resolved = await Promise.allSettled(keyed.map(({ r }) => this.addresses(r.exchange)));
    const hosts: MailHost[] = [];
    let temporary: DnsError | undefined;
    resolved.forEach((result, i) => {
      const { r } = keyed[i];
      if (result.status === 'fulfilled') {
        if (result.value.length > 0) hosts.push({ exchange: normalize(r.exchange), preference: r.priority, addresses: result.value, implicit: false });
      } else if (result.reason instanceof DnsError && result.reason.temporary) {
        temporary ??= result.reason;
      }
    });
    if (hosts.length > 0) return hosts;
    // RFC 5321 §5.1: MX records present but none usable MUST be reported as an error; if a
    // lookup could not be answered, that may pass.
    if (temporary) throw temporary;
    throw new DnsError(`none of the MX hosts of ${name} has an address`, false, 'ENODATA');
  }

  async txt(name: string): Promise<string[]> {
    const records = await this.query(`TXT ${normalize(name)}`, () => this.resolver.resolveTxt(normalize(name)), [] as string[][]);
    return records.map((chunks) => chunks.join(''));
  }
}
