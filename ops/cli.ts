/**
 * `sluice` — the command line. One table of subcommands; each handler lives in
 * `ops/commands/`. Exit codes: 0 ok, 1 failure, 2 usage error.
 */
import { serveCommand } from './commands/serve.ts';
import { domainCommand } from './commands/domain.ts';
import { userCommand } from './commands/user.ts';
import { topologyCommand } from './commands/topology.ts';
import { mailboxCommand } from './commands/mailbox.ts';
import { dlqCommand } from './commands/dlq.ts';
import { quarantineCommand } from './commands/quarantine.ts';
import { queueCommand } from './commands/queue.ts';
import { UsageError, type Command } from './commands/common.ts';
import { ConfigError } from './config.ts';

const COMMANDS: readonly Command[] = [serveCommand, domainCommand, userCommand, topologyCommand, mailboxCommand, dlqCommand, quarantineCommand, queueCommand];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  return [
    'usage: sluice <command> [options]',
    '',
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'common options: --config FILE (YAML), --data DIR (default ./data); any key also as SLUICE_* (see README).',
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help() + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`sluice: unknown command '${name}'\n\n${help()}\n`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sluice ${name}: ${err.message}\nusage: sluice ${command.usage}\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`sluice: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`sluice ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
