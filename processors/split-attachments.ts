/**
 * The `split-attachments` stage: mail.parsed → mailbox.commands. Leaf MIME bodies larger than
 * `threshold` (the encoded bytes as transmitted) go to the blob store on their own — content-
 * addressed, so the same attachment in many messages is stored once — and the rest of the
 * message, the skeleton, is stored beside them. The output is the `deliver` command for the
 * store stage; `readMessageBytes(blobs, { skeletonBlob, parts })` gives back the exact bytes
 * stored: the header fields earlier stages added (`addedHeaders`) on top of the raw message.
 *
 * Deterministic: the same input record gives the same command (ids derive from the ingress id
 * and the recipient, blob ids from the bytes), so a replay after a crash changes nothing.
 */
import { z } from 'zod';
import type { ProcessorDefinition } from './processor.ts';
import type { MailboxCommand, ParsedMail, SplitPart } from '../schemas/types.ts';
import { byteSize } from './mime/byte-size.ts';
import { storedBytes } from './mime/add-headers.ts';
import { leafParts, scanParts } from './mime/part-ranges.ts';
import type { PartRange } from './mime/part-ranges.ts';

const configSchema = z.object({
  /** Leaf bodies larger than this many bytes are stored apart. */
  threshold: byteSize().default(128 * 1024),
});

export type SplitAttachmentsConfig = z.output<typeof configSchema>;

export interface Cut {
  readonly start: number;
  readonly end: number;
}

/** The byte ranges to cut out of `raw`: delimited leaf bodies longer than `threshold`, in order. */
export function rangesToSplit(raw: Buffer, threshold: number): Cut[] {
  if (raw.length <= threshold) return [];
  const splittable = (p: PartRange): boolean =>
    p.delimited && !p.contentType.startsWith('multipart/') && p.bodyEnd - p.bodyStart > threshold;
  return leafParts(scanParts(raw))
    .filter(splittable)
    .map((p) => ({ start: p.bodyStart, end: p.bodyEnd }));
}

/** The skeleton (raw without the cuts) and where each cut goes back, in skeleton offsets. */
export function cutOut(raw: Buffer, cuts: readonly Cut[]): { skeleton: Buffer; offsets: number[] } {
  const pieces: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  let removed = 0;
  for (const cut of cuts) {
    pieces.push(raw.subarray(at, cut.start));
    offsets.push(cut.start - removed);
    removed += cut.end - cut.start;
    at = cut.end;
  }
  pieces.push(raw.subarray(at));
  return { skeleton: Buffer.concat(pieces), offsets };
}

export const splitAttachmentsProcessor: ProcessorDefinition<SplitAttachmentsConfig, ParsedMail, MailboxCommand> = {
  name: 'split-attachments',
  spec: {
    description: 'Stores leaf MIME bodies above a threshold as content-addressed blobs apart from the message skeleton.',
    input: 'ParsedMail',
    output: 'MailboxCommand',
    config: configSchema,
  },
  create(config, resources) {
    const { blobs } = resources;
    return {
      async process(record) {
        const parsed = record.value;
        const received = parsed.received;
        const raw = storedBytes(parsed, await blobs.get(received.rawBlob));
        const cuts = rangesToSplit(raw, config.threshold);
        let skeletonBlob = parsed.addedHeaders === '' ? received.rawBlob : '';
        const parts: SplitPart[] = [];
        if (cuts.length > 0) {
          const { skeleton, offsets } = cutOut(raw, cuts);
          for (let i = 0; i < cuts.length; i++) {
            const bytes = raw.subarray(cuts[i].start, cuts[i].end);
            parts.push({ offset: offsets[i], length: bytes.length, blob: await blobs.put(bytes) });
          }
          skeletonBlob = await blobs.put(skeleton);
        } else if (skeletonBlob === '') {
          skeletonBlob = await blobs.put(raw); // the stages' header fields on top: written here, once
        }
        const messageKey = `${received.ingressId}:${received.recipient.toLowerCase()}`;
        const command: MailboxCommand = {
          commandId: `deliver:${messageKey}`,
          userId: received.userId,
          issuedAt: received.receivedAt,
          deliver: {
            messageKey,
            mailbox: received.mailbox,
            flags: received.flags,
            receivedAt: received.receivedAt,
            size: raw.length,
            rawBlob: received.rawBlob,
            skeletonBlob,
            parts,
            messageId: parsed.messageId,
            inReplyTo: parsed.inReplyTo,
            references: parsed.references,
            subject: parsed.subject,
            from: parsed.from,
            to: parsed.to,
            cc: parsed.cc,
            date: parsed.date,
            headers: parsed.headers ?? '',
            text: parsed.text,
            attachmentNames: parsed.attachments.flatMap((a) => (a.filename ? [a.filename] : [])),
          },
        };
        return [{ key: record.key, value: command }];
      },
    };
  },
};
