/**
 * THREAD and UID THREAD (RFC 5256 §4): the SEARCH criteria select; ORDEREDSUBJECT (§2.3) and
 * REFERENCES (§2.2) are the pure functions of `thread/`. Subjects and sent dates come from the
 * store rows; Message-ID, References and In-Reply-To from each message's header (cached per
 * message, whose bytes never change).
 */
import type { ImapCommand } from '../command.ts';
import type { ImapContext, SelectedCommandHandler } from '../context.ts';
import type { StoredMessage } from '../../../connectors/store/store.ts';
import { headerValues } from '../mime/search-text.ts';
import { Lru } from '../fetch/lru.ts';
import { forEachOrdered } from '../fetch/ordered-reads.ts';
import { referencesThreads } from '../thread/references.ts';
import { orderedSubjectThreads } from '../thread/ordered-subject.ts';
import { formatThreads, type ThreadInput } from '../thread/thread.ts';
import { badCharset, matchingUids } from './search.ts';

type ThreadCommand = Extract<ImapCommand, { name: 'THREAD' }>;

interface ThreadHeaders {
  readonly messageId: string | null;
  readonly references: readonly string[];
  readonly inReplyTo: readonly string[];
}

const headerCache = new Lru<string, ThreadHeaders>(20_000);

/** The msg-ids of a header value, without angle brackets (RFC 5322 §3.6.4). */
export function messageIds(values: readonly string[]): string[] {
  const ids: string[] = [];
  for (const value of values) for (const m of value.matchAll(/<([^<>\s]+)>/g)) ids.push(m[1]);
  return ids;
}

export function threadHeaders(raw: Buffer): ThreadHeaders {
  return {
    messageId: messageIds(headerValues(raw, 'Message-ID'))[0] ?? null,
    references: messageIds(headerValues(raw, 'References')),
    inReplyTo: messageIds(headerValues(raw, 'In-Reply-To')),
  };
}

export const handleThread: SelectedCommandHandler<ThreadCommand> = async (ctx, cmd) => {
  const bad = badCharset(cmd.charset);
  if (bad) return bad;
  const view = ctx.selected;
  let uids: number[];
  try {
    uids = await matchingUids(ctx, cmd.criteria);
  } catch (err) {
    if (err instanceof RangeError) return { status: 'BAD', text: 'Invalid message sequence number' };
    throw err;
  }
  const rows = await ctx.service.store.messagesByUid(view.mailbox.id, uids);
  const inputs: ThreadInput[] = [];
  const common = (message: StoredMessage, seq: number) => ({
    id: cmd.uid ? message.uid : seq,
    order: seq,
    // RFC 5256 §2.2: the sent date is the Date: header, else the internal date.
    sentDate: message.date ?? message.receivedAt,
    subject: message.subject,
  });
  if (cmd.algorithm === 'ORDEREDSUBJECT') {
    for (const message of rows) {
      const seq = view.seqOf(message.uid);
      if (seq !== undefined) inputs.push({ ...common(message, seq), messageId: null, references: [], inReplyTo: [] });
    }
  } else {
    await forEachOrdered(
      rows,
      8,
      (message) => headersOf(ctx, message),
      (message, headers) => {
        const seq = view.seqOf(message.uid);
        if (seq !== undefined) inputs.push({ ...common(message, seq), ...headers });
      },
    );
  }
  const threads = cmd.algorithm === 'ORDEREDSUBJECT' ? orderedSubjectThreads(inputs) : referencesThreads(inputs);
  const text = formatThreads(threads);
  ctx.write(text === '' ? '* THREAD\r\n' : `* THREAD ${text}\r\n`);
  return { status: 'OK', text: 'THREAD completed' };
};

async function headersOf(ctx: ImapContext, message: StoredMessage): Promise<ThreadHeaders> {
  const cached = headerCache.get(message.messageKey);
  if (cached) return cached;
  const headers = threadHeaders(await ctx.service.messageBytes(message));
  headerCache.set(message.messageKey, headers);
  return headers;
}
