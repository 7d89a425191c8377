/**
 * The `push` stage: mailbox.events → online clients (a sink). Publishes every applied event
 * on the push bus, where IMAP IDLE, JMAP push and the web client listen per user. Push is a
 * hint, not a record: a replayed event is published again and clients re-read the store.
 */
import { z } from 'zod';
import type { ProcessorDefinition } from './processor.ts';
import type { MailboxEvent } from '../schemas/types.ts';

const configSchema = z.object({});

export type PushConfig = z.output<typeof configSchema>;

export const pushProcessor: ProcessorDefinition<PushConfig, MailboxEvent, never> = {
  name: 'push',
  spec: {
    description: 'Publishes mailbox events to online clients (IMAP IDLE, JMAP push, the web client).',
    input: 'MailboxEvent',
    output: null,
    config: configSchema,
  },
  create(_config, resources) {
    return {
      async process(record) {
        resources.push.publish(record.value);
        return [];
      },
    };
  },
};
