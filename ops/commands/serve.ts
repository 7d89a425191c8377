/** `sluice serve`: run the mail server until SIGINT/SIGTERM. */
import { createLogger } from '../logger.ts';
import { serve } from '../serve.ts';
import { configFrom, parse, type Command } from './common.ts';

export const serveCommand: Command = {
  name: 'serve',
  usage: 'serve [--config FILE] [--data DIR]',
  summary: 'run the mail server (SMTP MX, pipeline, HTTP /metrics)',
  async run(args) {
    const { values } = parse(args, {});
    const config = configFrom(values);
    const logger = createLogger({ level: config.log.level });
    const server = await serve(config, logger);
    process.stdout.write(`ready ${JSON.stringify(server.listeners)}\n`);
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
