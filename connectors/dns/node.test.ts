/**
 * The node:dns resolver against a real DNS server on loopback (dnsmasq): MX preference order and
 * the A/AAAA fallback of RFC 5321 §5.1, null MX (RFC 7505), NXDOMAIN, TXT joining, and a resolver
 * that does not answer.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsmasq, type RunningDns } from './dnsmasq-kit.ts';
import { NodeDnsResolver } from './node.ts';
import { DnsError } from './dns.ts';
import { startDns } from '../../test/harness/dns.ts';

let dns: RunningDns;
let resolver: NodeDnsResolver;

beforeAll(async () => {
  dns = await startDnsmasq({
    local: ['test'],
    mx: [
      ['multi.test', 'mx2.multi.test', 20],
      ['multi.test', 'mx1.multi.test', 10],
      ['multi.test', 'noaddr.multi.test', 5],
      ['dangling.test', 'nowhere.dangling.test', 10],
      ['nullmx.test', '.', 0],
    ],
    hosts: [
      ['mx1.multi.test', '127.0.0.2'],
      ['mx2.multi.test', '127.0.0.3', '::1'],
      ['implicit.test', '127.0.0.4'],
      ['v6only.test', '::1'],
    ],
    txt: [
      ['_dmarc.multi.test', 'v=DMARC1; p=none'],
      ['sel._domainkey.multi.test', 'v=DKIM1; k=rsa; ', 'p=ABCDEF'],
    ],
  });
  resolver = new NodeDnsResolver({ servers: [dns.server], timeoutMs: 1000, tries: 1 });
}, 30_000);

afterAll(async () => {
  await dns?.stop();
});

async function rejection(p: Promise<unknown>): Promise<DnsError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DnsError);
    return err as DnsError;
  }
  throw new Error('expected a DnsError');
}

describe('NodeDnsResolver over dnsmasq on loopback', () => {
  it('orders MX hosts by preference, leaves out hosts without an address, returns IPv4 before IPv6 (RFC 5321 §5.1)', async () => {
    expect(await resolver.mailHosts('Multi.TEST.')).toEqual([
      { exchange: 'mx1.multi.test', preference: 10, addresses: ['127.0.0.2'], implicit: false },
      { exchange: 'mx2.multi.test', preference: 20, addresses: ['127.0.0.3', '::1'], implicit: false },
    ]);
  });

  it('falls back to the domain\'s own A/AAAA when it has no MX (RFC 5321 §5.1 implicit MX)', async () => {
    expect(await resolver.mailHosts('implicit.test')).toEqual([{ exchange: 'implicit.test', preference: 0, addresses: ['127.0.0.4'], implicit: true }]);
    expect(await resolver.mailHosts('v6only.test')).toEqual([{ exchange: 'v6only.test', preference: 0, addresses: ['::1'], implicit: true }]);
  });

  it('a domain that does not exist, or whose MX hosts have no address, is a permanent error', async () => {
    const nx = await rejection(resolver.mailHosts('missing.test'));
    expect(nx.temporary).toBe(false);
    expect(nx.code).toBe('ENOTFOUND');
    // RFC 7505 §3: a null MX says the domain accepts no mail.
    const nullMx = await rejection(resolver.mailHosts('nullmx.test'));
    expect([nullMx.temporary, nullMx.code]).toEqual([false, 'NULLMX']);
    const dangling = await rejection(resolver.mailHosts('dangling.test'));
    expect(dangling.temporary).toBe(false);
    expect(dangling.message).toMatch(/none of the MX hosts/);
  });

  it('joins the strings of each TXT record (RFC 6376 §3.6.2.2); [] for a name without TXT', async () => {
    expect(await resolver.txt('sel._domainkey.multi.test')).toEqual(['v=DKIM1; k=rsa; p=ABCDEF']);
    expect(await resolver.txt('_dmarc.multi.test')).toEqual(['v=DMARC1; p=none']);
    expect(await resolver.txt('mx1.multi.test')).toEqual([]);
    expect(await resolver.addresses('mx2.multi.test')).toEqual(['127.0.0.3', '::1']);
  });

  it('a resolver that never answers is a temporary error', async () => {
    // A UDP socket that reads queries and answers none.
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    try {
      const mute = new NodeDnsResolver({ servers: [`127.0.0.1:${silent.address().port}`], timeoutMs: 200, tries: 1 });
      const err = await rejection(mute.mailHosts('multi.test'));
      expect(err.temporary).toBe(true);
      expect(err.code).toBe('ETIMEOUT');
    } finally {
      silent.close();
    }
  });
});

describe('NodeDnsResolver: a family whose lookup fails', () => {
  it('makes "no address" a temporary failure when the A query times out and AAAA has no data, for a host and for an MX target', async () => {
    const slow = await startDns({
      'slow-a.test': { A: ['127.0.0.9'], silent: ['A'] },
      'via-mx.test': { MX: [{ exchange: 'slow-a.test', priority: 10 }] },
      'fine.test': { A: ['127.0.0.10'] },
    });
    try {
      const r = new NodeDnsResolver({ servers: [slow.address], timeoutMs: 300, tries: 1 });
      await expect(r.addresses('slow-a.test')).rejects.toMatchObject({ name: 'DnsError', temporary: true });
      await expect(r.mailHosts('via-mx.test')).rejects.toMatchObject({ name: 'DnsError', temporary: true });
      expect(await r.addresses('fine.test')).toEqual(['127.0.0.10']); // AAAA has no data: A alone answers
    } finally {
      await slow.close();
    }
  });
});

describe('NodeDnsResolver: the answer cache', () => {
  it('asks once for a domain\'s MX and addresses, then answers from the cache — also when the server has gone; equal preferences are shuffled each time', async () => {
    const server = await startDns({
      'cached.test': { MX: [{ exchange: 'mx-a.cached.test', priority: 10 }, { exchange: 'mx-b.cached.test', priority: 10 }] },
      'mx-a.cached.test': { A: ['127.0.0.21'] },
      'mx-b.cached.test': { A: ['127.0.0.22'] },
    });
    let draw = 0;
    const r = new NodeDnsResolver({ servers: [server.address], timeoutMs: 300, tries: 1, random: () => [0.1, 0.9, 0.9, 0.1][draw++ % 4] });
    const first = await r.mailHosts('cached.test');
    const asked = server.asked.length;
    expect(asked).toBe(5); // MX, then A and AAAA of each host
    await server.close();
    const second = await r.mailHosts('CACHED.test.');
    expect(server.asked.length).toBe(asked);
    expect(first.map((h) => h.exchange)).toEqual(['mx-a.cached.test', 'mx-b.cached.test']);
    expect(second.map((h) => h.exchange)).toEqual(['mx-b.cached.test', 'mx-a.cached.test']); // RFC 5321 §5.1: random order, drawn again
    expect(await r.addresses('mx-a.cached.test')).toEqual(['127.0.0.21']);
  });

  it('keeps addresses no longer than their TTL, MX records for mxTtlMs, "no such domain" for negativeTtlMs', async () => {
    const server = await startDns({
      'short.test': { MX: [{ exchange: 'mx.short.test', priority: 10 }] },
      'mx.short.test': { A: ['127.0.0.31'], ttl: 2 },
    });
    try {
      let now = 1_000_000;
      const r = new NodeDnsResolver({ servers: [server.address], timeoutMs: 300, tries: 1, cache: { now: () => now, mxTtlMs: 10_000, negativeTtlMs: 5_000 } });
      await r.mailHosts('short.test');
      await expect(r.mailHosts('gone.test')).rejects.toMatchObject({ name: 'DnsError', temporary: false, code: 'ENOTFOUND' });
      const count = (q: string) => server.asked.filter((a) => a === q).length;
      now += 1_900; // within every TTL
      await r.mailHosts('short.test');
      await expect(r.mailHosts('gone.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
      expect([count('short.test/15'), count('mx.short.test/1'), count('gone.test/15')]).toEqual([1, 1, 1]);
      now += 200; // the A record's 2 s are over; the MX's 10 s and the negative 5 s are not
      await r.mailHosts('short.test');
      await expect(r.mailHosts('gone.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
      expect([count('short.test/15'), count('mx.short.test/1'), count('gone.test/15')]).toEqual([1, 2, 1]);
      now += 5_000; // the negative answer is over too
      await expect(r.mailHosts('gone.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
      expect(count('gone.test/15')).toBe(2);
      now += 5_000; // and the MX
      await r.mailHosts('short.test');
      expect(count('short.test/15')).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('never keeps a temporary failure, and asks once for lookups of one name made at the same time', async () => {
    const server = await startDns({
      'flaky.test': { A: ['127.0.0.41'], silent: ['A'] },
      'busy.test': { A: ['127.0.0.42'] },
    });
    try {
      const r = new NodeDnsResolver({ servers: [server.address], timeoutMs: 200, tries: 1 });
      await expect(r.addresses('flaky.test')).rejects.toMatchObject({ name: 'DnsError', temporary: true });
      await expect(r.addresses('flaky.test')).rejects.toMatchObject({ name: 'DnsError', temporary: true });
      expect(server.asked.filter((a) => a === 'flaky.test/1').length).toBe(2);
      const all = await Promise.all(Array.from({ length: 5 }, () => r.addresses('busy.test')));
      expect(all).toEqual(Array.from({ length: 5 }, () => ['127.0.0.42']));
      expect(server.asked.filter((a) => a === 'busy.test/1').length).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('holds at most maxEntries names, dropping the oldest; cache: false asks every time', async () => {
    const server = await startDns({ 'one.test': { A: ['127.0.0.51'] }, 'two.test': { A: ['127.0.0.52'] }, 'three.test': { A: ['127.0.0.53'] } });
    try {
      const r = new NodeDnsResolver({ servers: [server.address], timeoutMs: 300, tries: 1, cache: { maxEntries: 2 } });
      for (const name of ['one.test', 'two.test', 'three.test', 'three.test', 'two.test', 'one.test']) await r.addresses(name);
      const count = (name: string) => server.asked.filter((a) => a === `${name}/1`).length;
      expect([count('one.test'), count('two.test'), count('three.test')]).toEqual([2, 1, 1]);
      const uncached = new NodeDnsResolver({ servers: [server.address], timeoutMs: 300, tries: 1, cache: false });
      await uncached.addresses('two.test');
      await uncached.addresses('two.test');
      expect(count('two.test')).toBe(3);
    } finally {
      await server.close();
    }
  });
});
