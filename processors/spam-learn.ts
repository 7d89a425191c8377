/**
 * The `spam-learn` stage: mailbox.events → the per-user Bayes model (a sink). A user who moves
 * mail into Junk (IMAP MOVE, RFC 6851; JMAP Email/set) trains it as spam; moving mail out of
 * Junk into anything but Trash trains it as ham. The message is read back from the store (the
 * copy's key), tokenized like the `spam` stage does, and learnt under its content id, so a
 * replay, or a second move of the same message, does not count twice.
 */
import { z } from 'zod';
import type { ProcessorDefinition } from './processor.ts';
import type { MailboxEvent } from '../schemas/types.ts';
import { readMessageBytes } from '../connectors/blob/body.ts';
import { tokenize } from '../connectors/scan/bayes.ts';
import { readMessage } from './mime/read-message.ts';

const configSchema = z.object({});
export type SpamLearnConfig = z.output<typeof configSchema>;

const TEXT_BYTES = 256 * 1024;

export const spamLearnProcessor: ProcessorDefinition<SpamLearnConfig, MailboxEvent, never> = {
  name: 'spam-learn',
  spec: {
    description: 'Trains the per-user Bayes model from moves into Junk (spam) and out of Junk (ham).',
    input: 'MailboxEvent',
    output: null,
    config: configSchema,
  },
  create(_config, resources) {
    const bayes = resources.scan?.bayes;
    if (!bayes) throw new Error('spam-learn stage: no Bayes store (the composition root builds it)');
    const { store, blobs, logger } = resources;
    const isJunk = async (mailboxId: number): Promise<boolean | null> => {
      const box = await store.mailboxById(mailboxId);
      return box ? box.specialUse === '\\Junk' : null;
    };
    return {
      async process(record) {
        const copied = record.value.copied;
        if (!copied || copied.copies.length === 0) return [];
        const toJunk = await isJunk(copied.toMailboxId);
        const fromJunk = await isJunk(copied.fromMailboxId);
        const toTrash = (await store.mailboxById(copied.toMailboxId))?.specialUse === '\\Trash';
        let spam: boolean;
        if (toJunk) spam = true;
        else if (fromJunk && copied.moved && !toTrash) spam = false;
        else return [];
        let learnt = 0;
        for (const copy of copied.copies) {
          const message = await store.message(copy.toKey);
          if (!message) continue; // expunged since: nothing to learn from
          const raw = await readMessageBytes(blobs, message.body);
          const fields = await readMessage(raw, { maxTextBytes: TEXT_BYTES });
          const tokens = tokenize(fields.subject, fields.text, fields.from.map((a) => a.address));
          if (await bayes.learn(record.value.userId, message.body.skeletonBlob, tokens, spam)) learnt++;
        }
        logger.debug({ userId: record.value.userId, spam, learnt }, 'spam-learn: trained');
        return [];
      },
    };
  },
};
