/** Structured JSON logs (pino) to stderr, so stdout stays free for command output. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({ level: options.level ?? process.env.SLUICE_LOG_LEVEL ?? 'info', name: options.name ?? 'sluice' }, pino.destination(2));
}
