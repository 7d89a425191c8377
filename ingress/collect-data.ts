/**
 * The DATA body of one SMTP transaction, buffered as it arrives (shared by the MX and the
 * submission listeners). Chunks are kept as they come and concatenated once at the end; past
 * the SIZE limit they are dropped (smtp-server keeps reading until the end of data so the
 * reply stays in step). A client that goes away mid-message was acknowledged nothing, so
 * nothing is kept and `onClosed` gets the error.
 */
import type { SMTPServerDataStream } from 'smtp-server';
import type { Logger } from 'pino';

export interface CollectedData {
  /** The whole message (after `prefix`), or null if it exceeded SIZE (RFC 1870 §6.2). */
  body(): Buffer | null;
}

export function collectData(
  stream: SMTPServerDataStream,
  remoteAddress: string,
  logger: Logger,
  onClosed: (err: Error) => void,
  prefix?: Buffer,
): CollectedData {
  const chunks: Buffer[] = prefix ? [prefix] : [];
  let length = prefix?.length ?? 0;
  stream.on('data', (chunk: Buffer) => {
    if (stream.sizeExceeded) {
      chunks.length = 0;
      return;
    }
    chunks.push(chunk);
    length += chunk.length;
  });
  stream.once('error', (err: Error) => {
    logger.info({ err: err.message, remoteAddress }, 'connection closed during DATA');
    onClosed(err);
  });
  return { body: () => (stream.sizeExceeded ? null : Buffer.concat(chunks, length)) };
}
