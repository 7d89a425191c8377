/**
 * SORT and UID SORT (RFC 5256 §3): the SEARCH criteria select, the sort criteria order
 * (`sort/sort-keys.ts`, from the store rows, one batched read); `* SORT n …`, or an ESEARCH
 * reply when RETURN options were given (RFC 5267 §3.2 form, ALL in sort order).
 */
import type { ImapCommand } from '../command.ts';
import type { SelectedCommandHandler } from '../context.ts';
import { sortMessages } from '../sort/sort-keys.ts';
import { isAddressSortKey, readAddressKeys } from '../sort/address-keys.ts';
import { badCharset, esearchLine, matchingUids } from './search.ts';

type SortCommand = Extract<ImapCommand, { name: 'SORT' }>;

export const handleSort: SelectedCommandHandler<SortCommand> = async (ctx, cmd) => {
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
  const items = rows.flatMap((message) => {
    const seq = view.seqOf(message.uid);
    return seq === undefined ? [] : [{ message, seq }];
  });
  const byAddress = cmd.sort.some((c) => isAddressSortKey(c.key));
  const addressKeys = byAddress ? await readAddressKeys(ctx.service, items.map((i) => i.message)) : undefined;
  const sorted = sortMessages(items, cmd.sort, addressKeys);
  const numbers = sorted.map((s) => (cmd.uid ? s.message.uid : s.seq));
  if (cmd.returns !== null) {
    const returns = cmd.returns.length === 0 ? (['ALL'] as const) : cmd.returns;
    const line = esearchLine(cmd.tag, cmd.uid, returns, numbers, [...numbers].sort((a, b) => a - b), null);
    if (line) ctx.write(line);
    return { status: 'OK', text: 'SORT completed' };
  }
  ctx.write(`* SORT${numbers.map((n) => ` ${n}`).join('')}\r\n`);
  return { status: 'OK', text: 'SORT completed' };
};
