/**
 * The search fields of a message read from its bytes, for messages the index has not seen yet
 * (the index stage runs after the store): the same extraction the parse stage does
 * (processors/mime/read-message.ts, with the parse stage's default text cap) and the same
 * folding the index does (connectors/search/substring.ts), so the answer is the index's.
 */
import type { StoredMessage } from '../../../connectors/store/store.ts';
import { searchFields, type SearchFields } from '../../../connectors/search/substring.ts';
import { parseProcessor } from '../../../processors/parse.ts';
import { readMessage } from '../../../processors/mime/read-message.ts';
import type { MailboxService } from '../../mailbox-service.ts';

const MAX_TEXT_BYTES = parseProcessor.spec.config.parse({}).maxTextBytes;
/** Messages read at once. */
const READ_CONCURRENCY = 8;

export async function fieldsOfBytes(raw: Buffer): Promise<SearchFields> {
  const m = await readMessage(raw, { maxTextBytes: MAX_TEXT_BYTES });
  const names = m.attachments.flatMap((a) => (a.filename ? [a.filename] : []));
  return searchFields(m.headers, m.text, names.join(' '));
}

/** Reads the messages (a few at a time) and returns their fields by UID. */
export async function readFields(service: MailboxService, messages: readonly StoredMessage[]): Promise<Map<number, SearchFields>> {
  const out = new Map<number, SearchFields>();
  let next = 0;
  async function worker(): Promise<void> {
    while (next < messages.length) {
      const message = messages[next++];
      out.set(message.uid, await fieldsOfBytes(await service.messageBytes(message)));
    }
  }
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, messages.length) }, worker));
  return out;
}
