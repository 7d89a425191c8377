/**
 * `sluice mailbox export`: every mailbox of a user, every message in UID order, with the exact
 * stored bytes (`readMessageBytes`), to a directory of `<mailbox>.mbox` files or to a Maildir.
 *
 * Flags survive in Maildir (the `:2,` info). In mbox they are not written: adding `Status:` /
 * `X-Status:` fields would change the message bytes; a message that came with such fields
 * (imported from mbox) still has them. Only line endings change: files on disk are LF.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BlobStore } from '../../connectors/blob/blob.ts';
import { readMessageBytes } from '../../connectors/blob/body.ts';
import type { Mailbox, MailStore, StoredMessage } from '../../connectors/store/store.ts';
import { openMaildirWriter } from './maildir.ts';
import { openMboxWriter } from './mbox.ts';

export interface ExportOptions {
  readonly format: 'mbox' | 'maildir';
  /** A directory: of `.mbox` files, or the Maildir root. */
  readonly out: string;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ExportResult {
  readonly messages: number;
  readonly mailboxes: number;
  /** Bytes written to disk. */
  readonly bytes: number;
}

const PAGE = 500;

export async function exportMailbox(deps: { store: MailStore; blobs: BlobStore }, address: string, opts: ExportOptions): Promise<ExportResult> {
  const user = await deps.store.user(address);
  if (!user) throw new Error(`no such user: ${address}`);
  const mailboxes = await deps.store.mailboxes(user.id);
  const total = mailboxes.reduce((sum, m) => sum + m.messages, 0);
  let done = 0;
  let bytes = 0;
  const progress = () => opts.onProgress?.(done, Math.max(total, done));
  progress();
  await mkdir(opts.out, { recursive: true });

  if (opts.format === 'mbox') {
    for (const mailbox of mailboxes) {
      const file = mboxPath(opts.out, mailbox.name);
      await mkdir(dirname(file), { recursive: true });
      const writer = await openMboxWriter(file);
      try {
        for await (const message of messagesOf(deps.store, mailbox)) {
          const raw = await readMessageBytes(deps.blobs, message.body);
          bytes += await writer.write(raw, { sender: message.from[0]?.address ?? null, date: message.receivedAt });
          done++;
          progress();
        }
      } finally {
        await writer.close();
      }
    }
  } else {
    const writer = await openMaildirWriter(opts.out);
    for (const mailbox of mailboxes) {
      await writer.ensureFolder(mailbox.name);
      for await (const message of messagesOf(deps.store, mailbox)) {
        const raw = await readMessageBytes(deps.blobs, message.body);
        bytes += (await writer.write(mailbox.name, raw, { flags: message.flags, date: message.receivedAt })).bytes;
        done++;
        progress();
      }
    }
  }
  return { messages: done, mailboxes: mailboxes.length, bytes };
}

async function* messagesOf(store: MailStore, mailbox: Mailbox): AsyncGenerator<StoredMessage> {
  let after = 0;
  for (;;) {
    const page = await store.messages(mailbox.id, after, PAGE);
    yield* page;
    if (page.length < PAGE) return;
    after = page[page.length - 1].uid;
  }
}

/** `INBOX` → `out/INBOX.mbox`; `Work/Projects` → `out/Work/Projects.mbox`, unsafe characters replaced. */
export function mboxPath(out: string, mailbox: string): string {
  const parts = mailbox.split('/').map((part) => {
    const safe = part.replace(/[\\:*?"<>|\0]/g, '_');
    return /^\.*$/.test(safe) ? '_'.repeat(Math.max(1, safe.length)) : safe;
  });
  parts[parts.length - 1] += '.mbox';
  return join(out, ...parts);
}
