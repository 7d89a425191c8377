/**
 * `sluice mailbox import`: messages from an mbox file or a Maildir (detected) into a user's
 * mailboxes, through the same pipeline as mail received over SMTP: each raw message goes to
 * the blob store and a `mail.received` record (source `import`) to the log, in durable batches;
 * the running pipeline's store stage then stores them. Import never writes the store itself.
 *
 * De-duplication: a message is skipped when the user already has its Message-ID
 * (`store.hasMessageId`), when an earlier run already stored the same bytes (ingress id
 * `import:<sha256>`, so the pipeline's message key `<ingressId>:<recipient>` is the same and
 * the store would keep one copy anyway), or when this run has already seen its Message-ID
 * or bytes.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { BlobStore } from '../../connectors/blob/blob.ts';
import type { Log, ProduceRecord } from '../../connectors/log/log.ts';
import type { MailStore } from '../../connectors/store/store.ts';
import type { MailReceived } from '../../schemas/types.ts';
import { flagsFromStatus, scanHeaders } from './headers.ts';
import { isMaildir, listMaildir, readMaildirEntry } from './maildir.ts';
import { countMbox, readMbox } from './mbox.ts';

export const RECEIVED_TOPIC = 'mail.received';

export interface ImportDeps {
  readonly log: Log;
  readonly blobs: BlobStore;
  readonly store: MailStore;
  readonly encode: (value: MailReceived) => Buffer;
  readonly logger: Logger;
}

export interface ImportOptions {
  /** Called after each message (imported, duplicate or failed); `total` when known. */
  readonly onProgress?: (done: number, total?: number) => void;
  /** Records per `log.produce` (default 100); a batch is also cut at 32 MB of messages. */
  readonly batchSize?: number;
}

export interface ImportResult {
  readonly imported: number;
  readonly duplicates: number;
  readonly failed: number;
  /** Imported messages per target mailbox. */
  readonly mailboxes: Record<string, number>;
}

/** One message found in the source, before de-duplication. */
interface SourceMessage {
  /** CRLF line endings. */
  readonly bytes: Buffer;
  readonly mailbox: string;
  /** Flags given by the source (Maildir info); null to take them from `Status:` fields. */
  readonly flags: readonly string[] | null;
  readonly sender: string | null;
  /** Fallbacks for the received time when the message has no readable Date field. */
  readonly envelopeDate: number | null;
  readonly fileDate: number;
}

type SourceItem = SourceMessage | { readonly error: Error; readonly where: string };

const BATCH_BYTES = 32 * 1024 * 1024;

/** The pipeline's deterministic message key (as `split-attachments` makes it); see `DeliverRequest.messageKey`. */
export function importMessageKey(ingressId: string, recipient: string): string {
  return `${ingressId}:${recipient.toLowerCase()}`;
}

export async function importMailbox(deps: ImportDeps, address: string, path: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const user = await deps.store.user(address);
  if (!user) throw new Error(`no such user: ${address}`);
  const source = await openSource(path);
  const batchSize = Math.max(1, opts.batchSize ?? 100);
  const result = { imported: 0, duplicates: 0, failed: 0, mailboxes: {} as Record<string, number> };
  const seenIds = new Set<string>();
  const seenContent = new Set<string>();
  const checkedMailboxes = new Set<string>();
  let batch: { bytes: Buffer; sha: string; value: MailReceived }[] = [];
  let batchBytes = 0;
  let done = 0;

  const flush = async () => {
    if (batch.length === 0) return;
    // Claim check first: the blobs are durable before any record points at them.
    await Promise.all(
      batch.map(async (item) => {
        const id = await deps.blobs.put(item.bytes);
        if (id !== item.sha) throw new Error(`blob store returned id ${id} for content ${item.sha}`);
      }),
    );
    const records: ProduceRecord[] = batch.map((item) => ({
      topic: RECEIVED_TOPIC,
      key: user.id,
      value: deps.encode(item.value),
      headers: { source: 'import' },
    }));
    await deps.log.produce(records);
    for (const item of batch) {
      result.imported++;
      result.mailboxes[item.value.mailbox] = (result.mailboxes[item.value.mailbox] ?? 0) + 1;
    }
    batch = [];
    batchBytes = 0;
  };

  opts.onProgress?.(0, source.total);
  for await (const item of source.messages()) {
    done++;
    if ('error' in item) {
      result.failed++;
      deps.logger.warn({ err: item.error, where: item.where }, 'import: message skipped');
    } else if (item.bytes.length === 0) {
      result.failed++;
      deps.logger.warn({ mailbox: item.mailbox }, 'import: empty message skipped');
    } else {
      const sha = createHash('sha256').update(item.bytes).digest('hex');
      const ingressId = `import:${sha}`;
      const headers = scanHeaders(item.bytes);
      const duplicate =
        seenContent.has(sha) ||
        (headers.messageId !== null && (seenIds.has(headers.messageId) || (await deps.store.hasMessageId(user.id, headers.messageId)))) ||
        (await deps.store.message(importMessageKey(ingressId, user.address))) !== null;
      seenContent.add(sha);
      if (headers.messageId !== null) seenIds.add(headers.messageId);
      if (duplicate) {
        result.duplicates++;
      } else {
        if (!checkedMailboxes.has(item.mailbox)) {
          checkedMailboxes.add(item.mailbox);
          if ((await deps.store.mailbox(user.id, item.mailbox)) === null) {
            deps.logger.info({ mailbox: item.mailbox }, 'import: a new mailbox; the store creates it');
          }
        }
        batch.push({
          bytes: item.bytes,
          sha,
          value: {
            ingressId,
            userId: user.id,
            recipient: user.address,
            mailFrom: item.sender ?? '',
            source: 'import',
            remoteAddress: '',
            helo: '',
            receivedAt: headers.date ?? item.envelopeDate ?? item.fileDate,
            rawBlob: sha,
            size: item.bytes.length,
            mailbox: item.mailbox,
            flags: [...(item.flags ?? flagsFromStatus(headers.status, headers.xStatus))],
          },
        });
        batchBytes += item.bytes.length;
        if (batch.length >= batchSize || batchBytes >= BATCH_BYTES) await flush();
      }
    }
    opts.onProgress?.(done, source.total === undefined ? undefined : Math.max(source.total, done));
  }
  await flush();
  return result;
}

/** Detects the format: a directory with `cur/` or `new/` is a Maildir, a file an mbox. */
async function openSource(path: string): Promise<{ total?: number; messages: () => AsyncIterable<SourceItem> }> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
  });
  if (info.isDirectory()) {
    if (!(await isMaildir(path))) throw new Error(`not a Maildir (a directory without cur/ or new/): ${path}`);
    const entries = await listMaildir(path);
    return {
      total: entries.length,
      async *messages() {
        for (const entry of entries) {
          try {
            const message = await readMaildirEntry(entry);
            yield { bytes: message.bytes, mailbox: message.mailbox, flags: message.flags, sender: null, envelopeDate: null, fileDate: message.mtime.getTime() };
          } catch (err) {
            yield { error: err as Error, where: entry.path };
          }
        }
      },
    };
  }
  if (!info.isFile()) throw new Error(`neither an mbox file nor a Maildir: ${path}`);
  const total = await countMbox(path);
  return {
    total,
    async *messages() {
      for await (const message of readMbox(path)) {
        yield { bytes: message.bytes, mailbox: 'INBOX', flags: null, sender: message.sender, envelopeDate: message.date?.getTime() ?? null, fileDate: info.mtime.getTime() };
      }
    },
  };
}
