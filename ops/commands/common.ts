/** What the subcommands share: the command shape, option parsing, config loading. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, type Config } from '../config.ts';

export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  run(args: readonly string[]): Promise<number>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS = {
  config: { type: 'string' },
  data: { type: 'string' },
} as const satisfies Options;

export function parse<O extends Options>(args: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...args], options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The config of `--config` and `--data`, with `overrides` (dotted keys a command's own options set) over it. */
export function configFrom(values: { config?: string | boolean; data?: string | boolean }, overrides: Record<string, unknown> = {}): Readonly<Config> {
  return loadConfig({
    file: typeof values.config === 'string' ? values.config : undefined,
    overrides: { dataDir: typeof values.data === 'string' ? values.data : undefined, ...overrides },
  });
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
