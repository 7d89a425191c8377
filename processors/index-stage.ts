/**
 * The `index` stage: mailbox.events → the search index (a sink). A delivery becomes a search
 * document keyed by its message key, so a replayed event re-indexes the same document
 * (idempotent). Documents follow their messages: a copy indexes the source document again
 * under the copy's key, mailbox and UID; a move relocates it; an expunge or a deleted mailbox
 * removes it. Every one of these is an upsert or a delete by key, so replaying a stretch of the
 * log in order ends in the same index. Consecutive deliveries of a batch are one `index()`
 * call (one transaction, one fsync); other events apply in log order between them. Flag
 * changes, failures and folder events without removed messages do not concern the index.
 */
import { z } from 'zod';
import type { InputRecord, OutputRecord, ProcessorDefinition } from './processor.ts';
import type { AddressRecord, MailboxEvent } from '../schemas/types.ts';
import type { SearchDocument, SearchIndex } from '../connectors/search/search.ts';

const configSchema = z.object({});

export type IndexConfig = z.output<typeof configSchema>;

export const indexProcessor: ProcessorDefinition<IndexConfig, MailboxEvent, never> = {
  name: 'index',
  spec: {
    description: 'Indexes delivered messages for full-text and IMAP substring search, and follows copies, moves and expunges.',
    input: 'MailboxEvent',
    output: null,
    config: configSchema,
  },
  create(_config, resources) {
    async function processBatch(records: readonly InputRecord<MailboxEvent>[]): Promise<OutputRecord<never>[][]> {
      let docs: SearchDocument[] = [];
      for (const record of records) {
        const doc = toSearchDocument(record.value);
        if (doc) {
          docs.push(doc);
          continue;
        }
        if (!affectsIndex(record.value)) continue;
        await resources.search.index(docs);
        docs = [];
        await applyChange(resources.search, record.value);
      }
      await resources.search.index(docs);
      return records.map(() => []);
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

export function toSearchDocument(event: MailboxEvent): SearchDocument | null {
  const d = event.delivered;
  if (!d) return null;
  return {
    messageKey: d.messageKey,
    userId: event.userId,
    mailboxId: d.mailboxId,
    uid: d.uid,
    receivedAt: d.receivedAt,
    from: renderAddresses(d.from),
    to: renderAddresses(d.to),
    cc: renderAddresses(d.cc),
    subject: d.subject,
    body: d.text,
    attachments: d.attachmentNames.join(' '),
    headers: d.headers ?? '',
  };
}

function affectsIndex(event: MailboxEvent): boolean {
  return Boolean(event.copied || event.expunged || (event.mailboxChanged && event.mailboxChanged.removedKeys.length > 0));
}

/** Copies, moves and removals (RFC 9051 §6.4.7 COPY, RFC 6851 MOVE, §6.4.3 EXPUNGE, §6.3.5 DELETE). */
export async function applyChange(search: SearchIndex, event: MailboxEvent): Promise<void> {
  if (event.copied) {
    const c = event.copied;
    const placed = c.copies.map((copy, i) => ({ ...copy, mailboxId: c.toMailboxId, uid: c.targetUids[i] }));
    if (placed.some((p) => p.uid === undefined)) throw new Error(`copied event ${event.eventId}: ${c.copies.length} copies, ${c.targetUids.length} target UIDs`);
    if (!c.moved) {
      await search.copy(placed);
      return;
    }
    await search.relocate(placed.filter((p) => p.fromKey === p.toKey).map((p) => ({ messageKey: p.toKey, mailboxId: p.mailboxId, uid: p.uid })));
    const rekeyed = placed.filter((p) => p.fromKey !== p.toKey);
    await search.copy(rekeyed);
    await search.remove(rekeyed.map((p) => p.fromKey));
    return;
  }
  if (event.expunged) {
    await search.remove(event.expunged.messageKeys);
    return;
  }
  if (event.mailboxChanged) await search.remove(event.mailboxChanged.removedKeys);
}

/** `Name <address>, address, …` — names and addresses both searchable. */
export function renderAddresses(list: readonly AddressRecord[]): string {
  return list.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ');
}
