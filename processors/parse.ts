/**
 * The `parse` stage: mail.received → mail.parsed. Reads the raw message from the blob store
 * (claim check) and extracts what later stages need: thread ids, subject, addresses, date, the
 * header block and the plain text for the index (IMAP SEARCH), and the attachment list.
 *
 * Parser choice (bench/parse-compare.ts: 300 generated messages of the 5k:80,50k:18,500k:2 mix
 * plus the hard cases of mime/hard-cases.ts, 6.8 MB, 5–20 timed rounds, four runs on a shared
 * 2-core machine): postal-mime 0.52–0.61 ms/message (36–42 MB/s), mailparser 0.56–0.78
 * ms/message (28–39 MB/s) — postal-mime was faster in every run, by 3–22%. It agrees with
 * mailparser on every field we use except (a) addresses whose local part a sender RFC 2047-
 * encoded, which mime/read-message.ts decodes as mailparser does, and (b) the size of
 * attachments that are not base64-encoded, where postal-mime counts LF line ends (CRLF in the
 * message; informational only — stored bytes come from the raw message). postal-mime also
 * bounds nesting depth and header size and rejects beyond (we then fall back to the headers),
 * and leaves an unparseable Date unparsed where mailparser substitutes the current time (not
 * deterministic on replay).
 *
 * Never throws on broken MIME; only a missing raw blob (an I/O error) throws, and the runner
 * dead-letters the record.
 */
import { z } from 'zod';
import type { ProcessorDefinition } from './processor.ts';
import type { MailReceived, ParsedMail } from '../schemas/types.ts';
import { readMessage } from './mime/read-message.ts';
import { byteSize } from './mime/byte-size.ts';

const configSchema = z.object({
  /** Cap of the extracted text, in UTF-8 bytes. */
  maxTextBytes: byteSize().default(1024 * 1024),
});

export type ParseConfig = z.output<typeof configSchema>;

export const parseProcessor: ProcessorDefinition<ParseConfig, MailReceived, ParsedMail> = {
  name: 'parse',
  spec: {
    description: 'Parses the raw message (postal-mime): thread ids, subject, addresses, date, header block, plain text, attachments.',
    input: 'MailReceived',
    output: 'ParsedMail',
    config: configSchema,
  },
  create(config, resources) {
    return {
      async process(record) {
        const received = record.value;
        const raw = await resources.blobs.get(received.rawBlob);
        const fields = await readMessage(raw, { maxTextBytes: config.maxTextBytes });
        return [{ key: record.key, value: { received, addedHeaders: '', ...fields } }];
      },
    };
  },
};
