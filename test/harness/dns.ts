/**
 * An authoritative DNS server on loopback for the tests (npm `dns2`, UDP): answers A, MX and TXT
 * from a table, NXDOMAIN for names it does not have (RFC 1035 §4.1.1 RCODE 3). The Sluice server
 * under test is pointed at it with `dns.servers`; nothing reaches the internet.
 */
import dns2 from 'dns2';
import { freePort } from './server.ts';

export interface DnsZone {
  /** Lower-case name → records. TXT values longer than 255 bytes are split into character-strings. */
  readonly [name: string]: {
    A?: string[];
    MX?: { exchange: string; priority: number }[];
    TXT?: string[];
    /** Query types this name never gets an answer to (a server that times out for them). */
    silent?: readonly ('A' | 'AAAA' | 'MX' | 'TXT')[];
    /** TTL of this name's records, seconds (default 60). */
    ttl?: number;
  };
}

export interface RunningDns {
  /** `127.0.0.1:PORT`, as `dns.servers` takes it. */
  readonly address: string;
  /** Names asked, in order (for tests that check what was looked up). */
  readonly asked: string[];
  close(): Promise<void>;
}

const NXDOMAIN = 3;

function chunks(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 255) out.push(text.slice(i, i + 255));
  return out.length ? out : [''];
}

export async function startDns(zone: DnsZone): Promise<RunningDns> {
  const { Packet } = dns2;
  const asked: string[] = [];
  const server = dns2.createServer({
    udp: true,
    handle(request, send) {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const name = question.name.toLowerCase().replace(/\.$/, '');
      asked.push(`${name}/${question.type}`);
      const records = zone[name];
      const type = Object.entries(Packet.TYPE).find(([, code]) => code === question.type)?.[0];
      if (records?.silent?.some((t) => t === type)) return;
      if (!records) {
        response.header.rcode = NXDOMAIN;
      } else {
        const base = { name: question.name, class: Packet.CLASS.IN, ttl: records.ttl ?? 60 };
        if (question.type === Packet.TYPE.A) for (const address of records.A ?? []) response.answers.push({ ...base, type: Packet.TYPE.A, address });
        if (question.type === Packet.TYPE.MX) for (const mx of records.MX ?? []) response.answers.push({ ...base, type: Packet.TYPE.MX, ...mx });
        if (question.type === Packet.TYPE.TXT) for (const txt of records.TXT ?? []) response.answers.push({ ...base, type: Packet.TYPE.TXT, data: chunks(txt) });
      }
      send(response);
    },
  });
  const port = await freePort();
  await server.listen({ udp: { port, address: '127.0.0.1' } });
  return { address: `127.0.0.1:${port}`, asked, close: () => server.close() };
}
