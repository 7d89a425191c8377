/**
 * A session's input: bytes framed by `wire/reader.ts` into a bounded queue the session takes
 * commands from, one at a time (pipelining buffers here; a long queue pauses the socket).
 * After STARTTLS or COMPRESS, later bytes are held back unparsed until that command ran: they
 * are TLS handshake or deflate data if it succeeds (RFC 9051 §6.2.1, RFC 4978 §3).
 */
import { CommandReader, type CommandReaderOptions, type ReaderOutput } from './wire/reader.ts';

/** Queue length at which reading from the socket pauses. */
const QUEUE_HIGH = 64;
/** Input held back while STARTTLS or COMPRESS waits its turn. */
const MAX_HELD = 1024 * 1024;

export interface InputSource {
  readonly isClosed: boolean;
  pause(): void;
  resume(): void;
  destroy(): void;
}

export class SessionInput {
  private reader: CommandReader;
  private readonly queue: ReaderOutput[] = [];
  private holdingFor: Buffer | null = null;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private wake: (() => void) | null = null;

  constructor(
    private readonly source: InputSource,
    private readonly readerOptions: CommandReaderOptions,
  ) {
    this.reader = new CommandReader(readerOptions);
  }

  push(chunk: Buffer): void {
    if (this.holdingFor) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      // A client that floods while STARTTLS/COMPRESS waits its turn is not served further.
      if (this.heldBytes > MAX_HELD) this.source.destroy();
      return;
    }
    for (const output of this.reader.push(chunk)) {
      this.queue.push(output);
      if (output.kind === 'command' && /^\S+ (STARTTLS|COMPRESS)\b/i.test(output.data.toString('latin1', 0, 40))) {
        this.holdingFor = output.data;
        break;
      }
    }
    if (this.queue.length >= QUEUE_HIGH) this.source.pause();
    this.signal();
  }

  /** Wakes whoever waits in `next()` or `waitSignal()` (new input, a mailbox event, the end). */
  signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  waitSignal(): Promise<void> {
    this.source.resume();
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** Queued input without waiting. */
  shift(): ReaderOutput | undefined {
    const item = this.queue.shift();
    if (item && this.queue.length === QUEUE_HIGH / 4) this.source.resume();
    return item;
  }

  /** The next framed input, or null once the connection is gone. */
  async next(): Promise<ReaderOutput | null> {
    for (;;) {
      if (this.source.isClosed) return null;
      const item = this.shift();
      if (item) return item;
      await this.waitSignal();
    }
  }

  /** After a command ran: if it was a STARTTLS/COMPRESS that did not switch, parse what was held. */
  settle(data: Buffer): void {
    if (this.holdingFor !== data) return;
    const held = this.takeHeld();
    for (const chunk of held) this.push(chunk);
  }

  /**
   * STARTTLS or COMPRESS succeeded: queued input is dropped, the reader starts afresh, and the
   * held bytes are returned (COMPRESS feeds them to the inflater; STARTTLS discards them).
   */
  restart(): Buffer[] {
    this.queue.length = 0;
    this.reader = new CommandReader(this.readerOptions);
    return this.takeHeld();
  }

  private takeHeld(): Buffer[] {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    this.holdingFor = null;
    return held;
  }
}
