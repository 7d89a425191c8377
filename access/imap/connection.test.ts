import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from './connection.ts';

/** A Connection on the server end of a loopback socket pair, and what the client end receives. */
async function pair(): Promise<{ connection: Connection; server: net.Socket; received: () => Promise<Buffer>; close: () => void }> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  const server = await accepted;
  const chunks: Buffer[] = [];
  client.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => client.once('end', resolve));
  const connection = new Connection(server, '127.0.0.1', false, { onData: () => undefined, onClose: () => undefined });
  return {
    connection,
    server,
    received: async () => {
      await ended;
      return Buffer.concat(chunks);
    },
    close: () => {
      client.destroy();
      listener.close();
    },
  };
}

describe('Connection output', () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it('sends text and literal Buffers of a burst in order, the Buffers as given (one gathered write, no copy)', async () => {
    const p = await pair();
    close = p.close;
    const body = Buffer.alloc(200_000, 'x');
    const written: unknown[] = [];
    const write = p.server.write.bind(p.server) as (chunk: Buffer) => boolean;
    p.server.write = ((chunk: Buffer) => {
      written.push(chunk);
      return write(chunk);
    }) as typeof p.server.write;
    // RFC 9051 §4.3: `{n}` CRLF and the n octets of the literal, then the rest of the line.
    p.connection.write('* 1 FETCH (UID 7 BODY[] {200000}\r\n');
    p.connection.write(body);
    p.connection.write(')\r\n');
    p.connection.write('A1 OK ');
    p.connection.write('FETCH completed\r\n');
    p.connection.flush();
    p.connection.end();
    const out = await p.received();
    expect(out.equals(Buffer.concat([Buffer.from('* 1 FETCH (UID 7 BODY[] {200000}\r\n'), body, Buffer.from(')\r\nA1 OK FETCH completed\r\n')]))).toBe(true);
    expect(written).toContain(body);
  });

  it('joins a burst of text lines into one write', async () => {
    const p = await pair();
    close = p.close;
    let writes = 0;
    const write = p.server.write.bind(p.server) as (chunk: Buffer) => boolean;
    p.server.write = ((chunk: Buffer) => {
      writes++;
      return write(chunk);
    }) as typeof p.server.write;
    for (let i = 1; i <= 100; i++) p.connection.write(`* ${i} FETCH (FLAGS (\\Seen))\r\n`);
    p.connection.flush();
    p.connection.end();
    const out = (await p.received()).toString();
    expect(out.split('\r\n').filter(Boolean)).toHaveLength(100);
    expect(writes).toBe(1);
  });
});
