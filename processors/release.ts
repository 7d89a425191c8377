/**
 * The `release` stage of the retry topics (outbound.yaml `retry-N`): MailOutbound →
 * MailOutbound, unchanged, back to `deliver`'s input. The waiting is the runner's: the stage
 * declares `waitUntil: notBefore`, so a record reaches `process` only once it is due, and a
 * partition whose first record is not due is held without holding the others.
 */
import { z } from 'zod';
import type { ProcessorDefinition } from './processor.ts';
import type { MailOutbound } from '../schemas/types.ts';

const configSchema = z.object({});
export type ReleaseConfig = z.output<typeof configSchema>;

export const releaseProcessor: ProcessorDefinition<ReleaseConfig, MailOutbound, MailOutbound> = {
  name: 'release',
  spec: {
    description: 'Passes a queued message on once its notBefore has come (with the stage\'s waitUntil).',
    input: 'MailOutbound',
    output: 'MailOutbound',
    config: configSchema,
  },
  create() {
    return {
      async process(record) {
        return [{ key: record.key, value: record.value }];
      },
    };
  },
};
