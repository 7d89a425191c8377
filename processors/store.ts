/**
 * The `store` stage: mailbox.commands → mailbox.events. The one writer of mailbox state
 * (DESIGN.md §1.2): it applies each command to the mail store and emits what it applied, one
 * event per command.
 *
 * Deliveries go through `store.deliver` (idempotent by message key; event id
 * `deliver:<messageKey>`); client changes (flags, copy/move, expunge, create, rename, delete,
 * subscribe) through `store.apply` (idempotent by command id; event id = the command id). A
 * batch keeps its order: each run of consecutive deliveries, and each run of consecutive
 * changes, is one store transaction, one fsync. Replays are harmless and give the same event:
 * the store returns the first result, and the event's time is the command's `issuedAt`, not
 * the clock (only a delivery's thread id can differ: the current one, if a later message
 * merged the thread). A replay still emits the event — the first attempt may have crashed
 * before its output was committed.
 *
 * A change that cannot apply (unknown mailbox, name taken …) is a `failed` event, answering
 * the access server that issued it. A command with no known field set (a newer producer, a
 * corrupt record) throws, so the runner dead-letters it.
 */
import { z } from 'zod';
import type { InputRecord, OutputRecord, ProcessorDefinition, Resources } from './processor.ts';
import type { MailboxCommand, MailboxEvent } from '../schemas/types.ts';
import type {
  DeliverRequest,
  DeliverResult,
  MailboxChange,
  MailboxChangeResult,
  SpecialUse,
  StoredMessage,
  WriteOptions,
} from '../connectors/store/store.ts';

const configSchema = z.object({});

export type StoreConfig = z.output<typeof configSchema>;

/** What one command asks of the store. */
type Work = { readonly kind: 'deliver'; readonly request: DeliverRequest } | { readonly kind: 'change'; readonly change: MailboxChange };

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
      const commands = records.map((r) => r.value);
      const work = commands.map(toWork); // throws before anything is written
      const events: MailboxEvent[] = [];
      for (let start = 0; start < work.length; ) {
        let end = start + 1;
        while (end < work.length && work[end].kind === work[start].kind) end += 1;
        // The issuing access server hears of each event as soon as applyRun announces it.
        const applied = await applyRun(resources, commands.slice(start, end), work.slice(start, end), (announced) => {
          for (const event of announced) resources.push.publishApplied(event.delivered ? slim(event) : event);
        });
        events.push(...applied);
        start = end;
      }
      return commands.map((command, i) => [{ key: command.userId, value: events[i] }]);
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

/** One run of work of the same kind: one store call, one transaction; its events, announced once (see `announcedWrite`). */
async function applyRun(
  resources: Resources,
  commands: readonly MailboxCommand[],
  work: readonly Work[],
  announce: (events: readonly MailboxEvent[]) => void,
): Promise<MailboxEvent[]> {
  if (work[0].kind === 'deliver') {
    const requests = work.map((w) => (w as Extract<Work, { kind: 'deliver' }>).request);
    const { results, events } = await announcedWrite<DeliverResult>(
      (options) => resources.store.deliver(requests, options),
      (results) => results.map(({ message }, i) => deliveredEvent(commands[i], message)),
      announce,
    );
    for (const { created, message } of results) {
      if (!created) resources.logger.debug({ messageKey: message.messageKey }, 'store: delivery replayed, already stored');
    }
    return events;
  }
  const changes = work.map((w) => (w as Extract<Work, { kind: 'change' }>).change);
  const { events } = await announcedWrite<MailboxChangeResult>(
    (options) => resources.store.apply(changes, options),
    (results) => results.map((result, i) => changeEvent(commands[i], result)),
    announce,
  );
  return events;
}

/**
 * Runs one store write and announces its events once: when the store says its readers see the
 * write (the embedded store: committed, its fsync under way; `WriteOptions.visible`), or else
 * when the write resolves, durable.
 */
async function announcedWrite<R>(
  write: (options: WriteOptions<R>) => Promise<R[]>,
  toEvents: (results: readonly R[]) => MailboxEvent[],
  announce: (events: readonly MailboxEvent[]) => void,
): Promise<{ results: R[]; events: MailboxEvent[] }> {
  let events: MailboxEvent[] | undefined;
  const results = await write({ visible: (visible) => announce((events = toEvents(visible))) });
  if (events === undefined) announce((events = toEvents(results)));
  return { results, events };
}

/** A delivered event without its text, for the early announcement (waiters need only the placement). */
function slim(event: MailboxEvent): MailboxEvent {
  return { ...event, delivered: { ...event.delivered!, headers: '', text: '', attachmentNames: [] } };
}

function toWork(command: MailboxCommand): Work {
  if (command.deliver) return { kind: 'deliver', request: toDeliverRequest(command) };
  const change = toChange(command);
  if (!change) throw new Error(`mailbox command ${command.commandId}: no known command field is set`);
  return { kind: 'change', change };
}

function toChange(command: MailboxCommand): MailboxChange | null {
  const { commandId, userId } = command;
  if (command.setFlags) {
    const { mailboxId, uids, mode, flags, unchangedSince } = command.setFlags;
    if (mode !== 'add' && mode !== 'remove' && mode !== 'replace') {
      throw new Error(`mailbox command ${commandId}: unknown setFlags mode ${JSON.stringify(mode)}`);
    }
    return { kind: 'setFlags', commandId, userId, mailboxId, uids, mode, flags, unchangedSince };
  }
  if (command.copy) {
    const { fromMailboxId, uids, toMailbox, move } = command.copy;
    return { kind: 'copy', commandId, userId, fromMailboxId, uids, toMailbox, move };
  }
  if (command.expunge) {
    const { mailboxId, uids, onlyDeleted } = command.expunge;
    return { kind: 'expunge', commandId, userId, mailboxId, uids, onlyDeleted };
  }
  if (command.createMailbox) {
    // The store checks the attribute (RFC 6154 §3: an unknown one fails with USEATTR).
    const specialUse = command.createMailbox.specialUse as SpecialUse | null;
    return { kind: 'createMailbox', commandId, userId, name: command.createMailbox.name, specialUse };
  }
  if (command.renameMailbox) {
    const { from, to } = command.renameMailbox;
    return { kind: 'renameMailbox', commandId, userId, from, to };
  }
  if (command.deleteMailbox) return { kind: 'deleteMailbox', commandId, userId, name: command.deleteMailbox.name };
  if (command.subscribe) {
    const { name, subscribed } = command.subscribe;
    return { kind: 'subscribe', commandId, userId, name, subscribed };
  }
  return null;
}

function toDeliverRequest(command: MailboxCommand): DeliverRequest {
  const d = command.deliver!;
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

/** The event for a delivery: placement from the store; headers, text and attachment names from the command (for the index). */
function deliveredEvent(command: MailboxCommand, message: StoredMessage): MailboxEvent {
  const d = command.deliver!;
  return {
    eventId: `deliver:${message.messageKey}`,
    userId: command.userId,
    at: command.issuedAt,
    commandId: command.commandId,
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
      headers: d.headers,
      text: d.text,
      attachmentNames: d.attachmentNames,
    },
  };
}

/** The event for a client change: the field named like the result's kind. */
function changeEvent(command: MailboxCommand, result: MailboxChangeResult): MailboxEvent {
  const base = { eventId: command.commandId, userId: command.userId, at: command.issuedAt, commandId: command.commandId, delivered: null };
  switch (result.kind) {
    case 'flagsChanged':
      return {
        ...base,
        flagsChanged: {
          mailboxId: result.mailboxId,
          mailbox: result.mailbox,
          modseq: result.modseq,
          changed: result.changed.map((c) => ({ messageKey: c.messageKey, uid: c.uid, modseq: c.modseq, flags: [...c.flags] })),
          conflicts: [...result.conflicts],
        },
      };
    case 'copied':
      return {
        ...base,
        copied: {
          fromMailboxId: result.fromMailboxId,
          toMailboxId: result.toMailboxId,
          toMailbox: result.toMailbox,
          uidValidity: result.uidValidity,
          moved: result.moved,
          sourceUids: [...result.sourceUids],
          targetUids: [...result.targetUids],
          copies: result.copies.map((c) => ({ fromKey: c.fromKey, toKey: c.toKey })),
          modseq: result.modseq,
        },
      };
    case 'expunged':
      return {
        ...base,
        expunged: {
          mailboxId: result.mailboxId,
          mailbox: result.mailbox,
          uids: [...result.uids],
          messageKeys: [...result.messageKeys],
          modseq: result.modseq,
        },
      };
    case 'mailboxChanged':
      return {
        ...base,
        mailboxChanged: {
          change: result.change,
          mailboxId: result.mailboxId,
          name: result.name,
          oldName: result.oldName,
          removedKeys: [...result.removedKeys],
        },
      };
    case 'failed':
      return { ...base, failed: { code: result.code, message: result.message } };
  }
}
