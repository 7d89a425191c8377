/**
 * SEARCH and UID SEARCH (RFC 9051 §6.4.4, §6.4.9), ESEARCH replies (RFC 4731, and always under
 * IMAP4rev2, RFC 9051 §7.3.4), RETURN (SAVE) (RFC 5182) and the MODSEQ key (RFC 7162 §3.1.5).
 * The matching itself is `search/evaluate.ts`.
 */
import type { ImapCommand, SearchKey, SearchReturn } from '../command.ts';
import type { CommandResult, ImapContext, SelectedCommandHandler } from '../context.ts';
import { searchMailbox } from '../search/evaluate.ts';
import { formatSequenceSet } from '../wire/encode.ts';

type SearchCommand = Extract<ImapCommand, { name: 'SEARCH' }>;

const CHARSETS = new Set(['UTF-8', 'US-ASCII']);

/** RFC 9051 §6.4.4: a charset we do not know is NO [BADCHARSET (…)]; null means US-ASCII/UTF-8. */
export function badCharset(charset: string | null): CommandResult | null {
  if (charset === null || CHARSETS.has(charset.toUpperCase())) return null;
  return { status: 'NO', code: 'BADCHARSET (UTF-8 US-ASCII)', text: 'Unsupported charset' };
}

export function usesModseq(key: SearchKey): boolean {
  switch (key.kind) {
    case 'modseq':
      return true;
    case 'not':
      return usesModseq(key.key);
    case 'or':
      return usesModseq(key.left) || usesModseq(key.right);
    case 'and':
      return key.keys.some(usesModseq);
    default:
      return false;
  }
}

/** UIDs matching `key` among the session's messages, ascending; throws RangeError on bad sequence numbers. */
export function matchingUids(ctx: ImapContext, key: SearchKey): Promise<number[]> {
  const view = ctx.selected;
  return searchMailbox({ service: ctx.service, userId: ctx.user.id, mailbox: view.mailbox, uids: view.uids, savedSearch: view.savedSearch, recent: view.recent, key });
}

export const handleSearch: SelectedCommandHandler<SearchCommand> = async (ctx, cmd) => {
  const view = ctx.selected;
  const save = cmd.returns?.includes('SAVE') ?? false;
  const bad = badCharset(cmd.charset);
  if (bad) {
    if (save) view.savedSearch = []; // RFC 5182 §2.1: a failed SEARCH empties $
    return bad;
  }
  const modseqKey = usesModseq(cmd.criteria);
  if (modseqKey) ctx.enabled.condstore = true; // RFC 7162 §3.1: a CONDSTORE enabling command
  let uids: number[];
  try {
    uids = await matchingUids(ctx, cmd.criteria);
  } catch (err) {
    if (save) view.savedSearch = [];
    if (err instanceof RangeError) return { status: 'BAD', text: 'Invalid message sequence number' };
    throw err;
  }
  const returns: SearchReturn = cmd.returns === null || cmd.returns.length === 0 ? ['ALL'] : cmd.returns;
  let modseq: number | null = null;
  if (modseqKey && uids.length > 0) {
    const reported = new Set(cmd.returns === null ? uids : modseqMessages(uids, returns));
    modseq = 0;
    for (const s of await ctx.service.store.summaries(view.mailbox.id)) if (reported.has(s.uid)) modseq = Math.max(modseq, s.modseq);
  }
  const numbers = cmd.uid ? uids : uids.map((uid) => view.seqOf(uid) as number);

  if (cmd.returns === null && !ctx.enabled.imap4rev2) {
    // RFC 3501 §7.2.5: `* SEARCH n …`, with `(MODSEQ n)` when a MODSEQ key was used.
    let line = '* SEARCH';
    for (const n of numbers) line += ` ${n}`;
    if (modseq !== null) line += ` (MODSEQ ${modseq})`;
    ctx.write(`${line}\r\n`);
    return { status: 'OK', text: 'SEARCH completed' };
  }
  if (save) view.savedSearch = savedResult(uids, returns);
  const line = esearchLine(cmd.tag, cmd.uid, returns, numbers, [...numbers].sort((a, b) => a - b), modseq);
  if (line) ctx.write(line);
  return { status: 'OK', text: 'SEARCH completed' };
};

/**
 * RFC 7162 §3.1.5 (with RFC 4731): the messages whose highest MODSEQ an ESEARCH reports — with
 * only MIN and/or MAX (no ALL, no COUNT) the returned message(s), otherwise every match.
 * `uids` is ascending and not empty.
 */
export function modseqMessages(uids: readonly number[], returns: NonNullable<SearchReturn>): readonly number[] {
  const min = returns.includes('MIN');
  const max = returns.includes('MAX');
  if ((min || max) && !returns.includes('ALL') && !returns.includes('COUNT')) {
    return [...(min ? [uids[0]] : []), ...(max ? [uids[uids.length - 1]] : [])];
  }
  return uids;
}

/** RFC 5182 §2.1: SAVE with only MIN and/or MAX saves those; otherwise every match. */
function savedResult(uids: number[], returns: NonNullable<SearchReturn>): number[] {
  const min = returns.includes('MIN');
  const max = returns.includes('MAX');
  if ((min || max) && !returns.includes('ALL') && !returns.includes('COUNT') && uids.length > 0) {
    return [...new Set([...(min ? [uids[0]] : []), ...(max ? [uids[uids.length - 1]] : [])])];
  }
  return uids;
}

/**
 * `* ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [ALL set] [COUNT n] [MODSEQ n]` (RFC 4731 §3.1),
 * or null when SAVE was the only option (RFC 5182 §2.4). `all` is written as given (SORT keeps
 * its order); `ascending` gives MIN and MAX.
 */
export function esearchLine(
  tag: string,
  uid: boolean,
  returns: NonNullable<SearchReturn>,
  all: readonly number[],
  ascending: readonly number[],
  modseq: number | null,
): string | null {
  if (returns.every((r) => r === 'SAVE')) return null;
  let line = `* ESEARCH (TAG "${tag.replace(/["\\]/g, '\\$&')}")`;
  if (uid) line += ' UID';
  if (returns.includes('MIN') && ascending.length > 0) line += ` MIN ${ascending[0]}`;
  if (returns.includes('MAX') && ascending.length > 0) line += ` MAX ${ascending[ascending.length - 1]}`;
  if (returns.includes('ALL') && all.length > 0) line += ` ALL ${isAscending(all) ? formatSequenceSet(all) : all.join(',')}`;
  if (returns.includes('COUNT')) line += ` COUNT ${all.length}`;
  if (modseq !== null) line += ` MODSEQ ${modseq}`;
  return `${line}\r\n`;
}

function isAscending(nums: readonly number[]): boolean {
  for (let i = 1; i < nums.length; i++) if (nums[i] <= nums[i - 1]) return false;
  return true;
}
