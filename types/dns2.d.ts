// The part of `dns2` (no types of its own) that test/harness/dns.ts uses: a UDP server.
declare module 'dns2' {
  interface Question {
    name: string;
    type: number;
    class: number;
  }
  interface Answer {
    name: string;
    type: number;
    class: number;
    ttl: number;
    address?: string;
    data?: string | string[];
    exchange?: string;
    priority?: number;
  }
  interface DnsPacket {
    header: { id: number; rcode: number; aa: number };
    questions: Question[];
    answers: Answer[];
  }
  interface DnsServer {
    listen(options: { udp?: { port: number; address: string } }): Promise<{ udp?: { port: number; address: string } }>;
    close(): Promise<void>;
  }
  const dns2: {
    Packet: {
      TYPE: Record<'A' | 'AAAA' | 'MX' | 'TXT' | 'CNAME' | 'NS' | 'PTR' | 'SOA', number>;
      CLASS: { IN: number };
      createResponseFromRequest(request: DnsPacket): DnsPacket;
    };
    createServer(options: { udp?: boolean; tcp?: boolean; handle: (request: DnsPacket, send: (response: DnsPacket) => void) => void }): DnsServer;
  };
  export default dns2;
}
