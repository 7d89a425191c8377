/**
 * The `index` stage: mailbox.events → the search index (a sink). A delivery becomes a search
 * document keyed by its message key, so a replayed event re-indexes the same document
 * (idempotent). A batch is one `index()` call: one transaction, one fsync. Events of other
 * kinds are not the index's business and pass without effect.
 */
import { z } from 'zod';
import type { InputRecord, OutputRecord, ProcessorDefinition } from './processor.ts';
import type { AddressRecord, MailboxEvent } from '../schemas/types.ts';
import type { SearchDocument } from '../connectors/search/search.ts';

const configSchema = z.object({});

export type IndexConfig = z.output<typeof configSchema>;

export const indexProcessor: ProcessorDefinition<IndexConfig, MailboxEvent, never> = {
  name: 'index',
  spec: {
    description: 'Indexes delivered messages for full-text search (from, to, cc, subject, body, attachment names).',
    input: 'MailboxEvent',
    output: null,
    config: configSchema,
  },
  create(_config, resources) {
    async function processBatch(records: readonly InputRecord<MailboxEvent>[]): Promise<OutputRecord<never>[][]> {
      const docs = records.map((r) => toSearchDocument(r.value)).filter((d): d is SearchDocument => d !== null);
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
  };
}

/** `Name <address>, address, …` — names and addresses both searchable. */
export function renderAddresses(list: readonly AddressRecord[]): string {
  return list.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ');
}
