/**
 * Test kit: a real DNS server (Debian's dnsmasq) on a loopback port, authoritative for the test
 * zones it is given (`--local`), never forwarding anywhere. Used by the tests of the dns
 * connector and of delivery. Throws, never skips, when dnsmasq is not installed (`.ci/run`
 * installs dnsmasq-base).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';

export interface DnsZone {
  /** Zones answered authoritatively (absent names are NXDOMAIN, absent types NODATA), e.g. ['test']. */
  readonly local: readonly string[];
  /** [domain, exchange, preference] */
  readonly mx?: readonly (readonly [string, string, number])[];
  /** [name, ...addresses] (IPv4 and IPv6) */
  readonly hosts?: readonly (readonly [string, ...string[]])[];
  /** [name, ...strings of one TXT record] */
  readonly txt?: readonly (readonly [string, ...string[]])[];
}

export interface RunningDns {
  /** `127.0.0.1:port`, for `dns.servers`. */
  readonly server: string;
  stop(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export async function startDnsmasq(zone: DnsZone): Promise<RunningDns> {
  if (spawnSync('dnsmasq', ['--version']).error) throw new Error('dnsmasq is not installed (Debian package dnsmasq-base; .ci/run installs it)');
  // The port is free for UDP when chosen, but dnsmasq binds TCP on it too, and another process
  // may hold that (or take the UDP one) first: a new port then, a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDnsmasqOn(await freeUdpPort(), zone);
    } catch (err) {
      if (attempt >= 5 || !(err instanceof Error) || !/Address already in use/.test(err.message)) throw err;
    }
  }
}

async function startDnsmasqOn(port: number, zone: DnsZone): Promise<RunningDns> {
  const args = [
    '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--no-poll', '--pid-file=',
    '--bind-interfaces', '--listen-address=127.0.0.1', `--port=${port}`, '--user=root', '--log-facility=-',
    ...zone.local.map((z) => `--local=/${z}/`),
    ...(zone.mx ?? []).map(([d, x, p]) => `--mx-host=${d},${x},${p}`),
    ...(zone.hosts ?? []).map(([name, ...addrs]) => `--host-record=${name},${addrs.join(',')}`),
    ...(zone.txt ?? []).map(([name, ...strings]) => `--txt-record=${name},${strings.join(',')}`),
  ];
  const child: ChildProcess = spawn('dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready once it answers a query on its port.
  const { promises: dns } = await import('node:dns');
  const probe = new dns.Resolver({ timeout: 200, tries: 1 });
  probe.setServers([`127.0.0.1:${port}`]);
  const until = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited with ${child.exitCode}: ${stderr}`);
    try {
      await probe.resolve4('ready.probe.invalid');
      break;
    } catch (err) {
      // An answer of any kind (NXDOMAIN, REFUSED) means it is listening.
      if ((err as { code?: string }).code !== 'ETIMEOUT' && (err as { code?: string }).code !== 'ECONNREFUSED') break;
    }
    if (Date.now() > until) throw new Error(`dnsmasq did not answer on port ${port}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    server: `127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
