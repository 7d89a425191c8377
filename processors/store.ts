/**
 * The `store` stage: mailbox.commands → mailbox.events. The one writer of mailbox state
 * (DESIGN.md §1.2): it applies each command to the mail store and emits what it applied.
 *
 * A whole batch of deliveries is one store transaction (`processBatch`), one fsync. Replays
 * are harmless and give the same event: the store is idempotent by message key (a replayed
 * delivery returns the stored message with its original UID), the event id is
 * `deliver:<messageKey>` and its time is the command's `issuedAt`, not the clock (only the
 * thread id can differ: the current one, if a later message merged the thread). A replay
 * still emits the event — the first attempt may have crashed before its output was committed.
 *
 * A command with no known field set (a newer producer, a corrupt record) throws, so the runner
 * dead-letters it.
 */
import { z } from 'zod';
import type { InputRecord, OutputRecord, ProcessorDefinition } from './processor.ts';
import type { MailboxCommand, MailboxEvent } from '../schemas/types.ts';
import type { DeliverRequest, StoredMessage } from '../connectors/store/store.ts';

const configSchema = z.object({});

export type StoreConfig = z.output<typeof configSchema>;

export const storeProcessor: ProcessorDefinition<StoreConfig, MailboxCommand, MailboxEvent> = {
  name: 'store',
  spec: {
    description: 'Applies mailbox commands to the mail store (folder, UID, MODSEQ, flags, thread id) and emits what it applied.',
    input: 'MailboxCommand',
    output: 'MailboxEvent',
    config: configSchema,
  },
  create(_config, resources) {
    async function processBatch(records: readonly InputRecord<MailboxCommand>[]): Promise<OutputRecord<MailboxEvent>[][]> {
      const requests = records.map((r) => toDeliverRequest(r.value));
      const results = await resources.store.deliver(requests);
      return records.map((record, i) => {
        const command = record.value;
        const { created, message } = results[i];
        if (!created) resources.logger.debug({ messageKey: message.messageKey }, 'store: delivery replayed, already stored');
        return [{ key: command.userId, value: deliveredEvent(command, message) }];
      });
    }
    return {
      async process(record) {
        const [outputs] = await processBatch([record]);
        return outputs;
      },
      processBatch,
    };
  },
};

function toDeliverRequest(command: MailboxCommand): DeliverRequest {
  const d = command.deliver;
  if (!d) throw new Error(`mailbox command ${command.commandId}: no known command field is set`);
  return {
    messageKey: d.messageKey,
    userId: command.userId,
    mailbox: d.mailbox,
    flags: d.flags,
    receivedAt: d.receivedAt,
    size: d.size,
    body: { skeletonBlob: d.skeletonBlob, parts: d.parts },
    messageId: d.messageId,
    inReplyTo: d.inReplyTo,
    references: d.references,
    subject: d.subject,
    from: d.from,
    to: d.to,
    cc: d.cc,
    date: d.date,
  };
}

/** The event for a delivery: placement from the store, text and attachment names from the command (for the index). */
function deliveredEvent(command: MailboxCommand, message: StoredMessage): MailboxEvent {
  const d = command.deliver!;
  return {
    eventId: `deliver:${message.messageKey}`,
    userId: command.userId,
    at: command.issuedAt,
    delivered: {
      messageKey: message.messageKey,
      mailboxId: message.mailboxId,
      mailbox: message.mailbox,
      uid: message.uid,
      modseq: message.modseq,
      threadId: message.threadId,
      receivedAt: message.receivedAt,
      size: message.size,
      subject: message.subject,
      from: message.from.map((a) => ({ name: a.name, address: a.address })),
      to: message.to.map((a) => ({ name: a.name, address: a.address })),
      cc: message.cc.map((a) => ({ name: a.name, address: a.address })),
      text: d.text,
      attachmentNames: d.attachmentNames,
    },
  };
}
