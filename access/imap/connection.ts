/**
 * One client connection's bytes: the socket, upgraded in place by STARTTLS (RFC 9051 §6.2.1)
 * and wrapped by COMPRESS=DEFLATE (RFC 4978). The session sees plain bytes in and writes plain
 * responses out; `flush()` marks the end of a response burst (a sync flush when compressing).
 */
import type net from 'node:net';
import tls from 'node:tls';
import { startCompression, type Compression } from './compress.ts';

/** Buffered plain output is written once it reaches this size (or at the end of the burst). */
const OUTPUT_CHUNK = 64 * 1024;

export class Connection {
  private socket: net.Socket;
  private compression: Compression | null = null;
  private closed = false;
  /**
   * Plain output not yet handed to the socket: one write per burst, not one per response line.
   * Text is joined as it comes; Buffers (literals: message bytes) are kept as given, and the
   * burst goes out as one gathered write (writev), so a message's bytes are never copied here.
   */
  private pending: Buffer[] = [];
  private pendingText = '';
  private pendingBytes = 0;
  private flushScheduled = false;
  private readonly onSocketData = (chunk: Buffer) => {
    if (this.compression) this.compression.receive(chunk);
    else this.handlers.onData(chunk);
  };

  constructor(
    socket: net.Socket,
    readonly remoteAddress: string,
    private tlsActive: boolean,
    private readonly handlers: { onData: (chunk: Buffer) => void; onClose: () => void },
  ) {
    this.socket = socket;
    this.attach(socket);
  }

  get isTls(): boolean {
    return this.tlsActive;
  }

  get isCompressed(): boolean {
    return this.compression !== null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(chunk: Buffer | string): void {
    if (this.closed) return;
    if (this.compression) {
      this.compression.write(chunk);
      return;
    }
    if (typeof chunk === 'string') {
      this.pendingText += chunk;
    } else {
      this.takeText();
      this.pending.push(chunk);
    }
    this.pendingBytes += chunk.length; // UTF-16 units for text: near enough for a threshold
    if (this.pendingBytes >= OUTPUT_CHUNK) this.writePending();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.writePending());
    }
  }

  /** The end of a response burst: everything written so far goes out now. */
  flush(): void {
    this.writePending();
    this.compression?.flush();
  }

  private takeText(): void {
    if (this.pendingText === '') return;
    this.pending.push(Buffer.from(this.pendingText, 'utf8'));
    this.pendingText = '';
  }

  private writePending(): void {
    this.flushScheduled = false;
    this.takeText();
    if (this.pending.length === 0) return;
    const out = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.closed) return;
    if (out.length === 1) {
      this.socket.write(out[0]);
      return;
    }
    // Corked writes leave the stream as one writev: one system call, no concatenation.
    this.socket.cork();
    for (const buffer of out) this.socket.write(buffer);
    this.socket.uncork();
  }

  /** Resolves once the socket's write buffer has drained (backpressure for large responses). */
  async drained(): Promise<void> {
    if (this.closed || !this.socket.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.closed) this.socket.resume();
  }

  /**
   * RFC 9051 §6.2.1: after the tagged OK, the TLS handshake starts on the same socket. Bytes the
   * client sent after STARTTLS and before the handshake are not read as commands.
   */
  startTls(secureContext: tls.SecureContext): Promise<void> {
    this.writePending(); // the tagged OK goes out in the clear
    const plain = this.socket;
    this.detach(plain);
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext });
    this.socket = secure;
    this.tlsActive = true;
    this.attach(secure);
    return new Promise((resolve, reject) => {
      secure.once('secure', () => resolve());
      secure.once('error', reject);
      secure.once('close', () => reject(new Error('connection closed during the TLS handshake')));
    });
  }

  /** RFC 4978 §3: from the byte after the tagged OK, both directions are deflated. */
  startCompression(): void {
    this.writePending(); // the tagged OK goes out uncompressed
    this.compression = startCompression({
      onOutput: (chunk) => {
        if (!this.closed) this.socket.write(chunk);
      },
      onInput: (chunk) => this.handlers.onData(chunk),
      onError: () => this.destroy(),
    });
  }

  /** Bytes that arrived from the socket but were held back (after COMPRESS): handled as if just read. */
  receiveRaw(chunk: Buffer): void {
    if (!this.closed) this.onSocketData(chunk);
  }

  /** Sends what is buffered, then closes. */
  end(): void {
    if (this.closed) return;
    this.writePending();
    const socket = this.socket;
    const finish = () => {
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
    };
    // With COMPRESS, end only once the deflate stream has handed over its last bytes.
    if (this.compression) this.compression.flush(finish);
    else finish();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private attach(socket: net.Socket): void {
    socket.on('data', this.onSocketData);
    socket.on('error', () => socket.destroy());
    socket.on('close', this.onSocketClose);
  }

  private detach(socket: net.Socket): void {
    socket.off('data', this.onSocketData);
    socket.off('close', this.onSocketClose);
  }

  private readonly onSocketClose = () => {
    if (this.closed) return;
    this.closed = true;
    this.compression?.close();
    this.handlers.onClose();
  };
}
