/** `sluice serve`: run the mail server (all roles, or those of `--roles`) until SIGINT/SIGTERM. */
import { createLogger } from '../logger.ts';
import { serve } from '../serve.ts';
import { configFrom, parse, type Command } from './common.ts';

/** How long a stop may take (listeners, stages, engines) before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 30_000;

export const serveCommand: Command = {
  name: 'serve',
  usage: 'serve [--config FILE] [--data DIR] [--roles ingress,stages,access]',
  summary: 'run the mail server (SMTP MX and submission, pipeline, IMAP and POP3, HTTP /metrics), or some of its roles',
  async run(args) {
    const { values } = parse(args, { roles: { type: 'string' } });
    const config = configFrom(values, { roles: values.roles });
    const logger = createLogger({ level: config.log.level });
    const server = await serve(config, logger);
    process.stdout.write(`ready ${JSON.stringify({ roles: server.roles, ...server.listeners })}\n`);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'shutting down');
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    // A graceful stop that hangs (a broker gone with a request in flight) must not keep the
    // process: nothing is lost by leaving then, since every effect is committed or replayed.
    const watchdog = setTimeout(() => {
      logger.error({ afterMs: SHUTDOWN_GRACE_MS }, 'shutdown took too long: exiting without waiting further');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    const again = (signal: string) => {
      logger.warn({ signal }, 'second stop signal: exiting now');
      process.exit(1);
    };
    process.once('SIGINT', again);
    process.once('SIGTERM', again);
    await server.close();
    clearTimeout(watchdog);
    // Everything is closed; a connection a client library still holds (seen with a Kafka broker
    // gone) must not keep the process alive: it exits when the loop is empty, or 2 s from now.
    setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
    return 0;
  },
};
