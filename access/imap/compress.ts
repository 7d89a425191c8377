/**
 * COMPRESS=DEFLATE (RFC 4978): raw deflate (RFC 1951, no zlib header) in both directions. The
 * server flushes with Z_SYNC_FLUSH after each response so the client can read it at once
 * (RFC 4978 §4).
 */
import zlib from 'node:zlib';

export interface Compression {
  /** Compresses outgoing bytes; `onOutput` gets the deflated bytes. */
  write(chunk: Buffer | string): void;
  /** Z_SYNC_FLUSH: everything written so far reaches `onOutput` as a complete deflate block, then `done` runs. */
  flush(done?: () => void): void;
  /** Decompresses incoming bytes; `onInput` gets the inflated bytes. */
  receive(chunk: Buffer): void;
  close(): void;
}

export function startCompression(handlers: {
  onOutput: (chunk: Buffer) => void;
  onInput: (chunk: Buffer) => void;
  onError: (err: Error) => void;
}): Compression {
  const deflate = zlib.createDeflateRaw({ level: 6 });
  // A deflate bomb inflates into the command reader, whose line and literal limits bound what it keeps.
  const inflate = zlib.createInflateRaw();
  deflate.on('data', handlers.onOutput);
  inflate.on('data', handlers.onInput);
  deflate.on('error', handlers.onError);
  inflate.on('error', handlers.onError);
  let closed = false;
  let unflushed = false;
  return {
    write(chunk) {
      if (closed) return;
      deflate.write(chunk);
      unflushed = true;
    },
    flush(done) {
      // Nothing written since the last flush: no empty block on the wire.
      if (closed || !unflushed) {
        done?.();
        return;
      }
      unflushed = false;
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => done?.());
    },
    receive(chunk) {
      if (!closed) inflate.write(chunk);
    },
    close() {
      if (closed) return;
      closed = true;
      deflate.destroy();
      inflate.destroy();
    },
  };
}
