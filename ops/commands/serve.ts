/** `sluice serve`: run the mail server (all roles, or those of `--roles`) until SIGINT/SIGTERM. */
import { createLogger } from '../logger.ts';
import { serve } from '../serve.ts';
import { configFrom, parse, type Command } from './common.ts';

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
    await server.close();
    return 0;
  },
};
