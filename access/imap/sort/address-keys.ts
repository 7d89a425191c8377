/**
 * FROM, TO and CC sort keys (RFC 5256 §3): the addr-mailbox of the first address of the field,
 * "" when there is none. The store's address rows flatten groups, but in the IMAP address
 * structure a group's first address is the group start, whose addr-mailbox is the group name
 * (RFC 9051 §7.5.2), so the keys come from the header section itself: read once per message
 * (its bytes never change) and kept in a small cache.
 */
import type { StoredMessage } from '../../../connectors/store/store.ts';
import type { MailboxService } from '../../mailbox-service.ts';
import { findHeaderEnd, parseAddressList, parseHeaderBlock } from '../mime/headers.ts';
import { MISSING_MAILBOX } from '../mime/address.ts';
import { Lru } from '../fetch/lru.ts';

export type AddressSortKey = 'FROM' | 'TO' | 'CC';

/** Per message: the un-casemapped addr-mailbox of the first FROM, TO and CC address. */
export type AddressKeys = Readonly<Record<AddressSortKey, string>>;

const cache = new Lru<string, AddressKeys>(50_000);
/** Messages read at once. */
const READ_CONCURRENCY = 8;

export function isAddressSortKey(key: string): key is AddressSortKey {
  return key === 'FROM' || key === 'TO' || key === 'CC';
}

/** RFC 5256 §3: the first address's addr-mailbox (a group's name for a group), "" when none. */
export function firstAddrMailbox(value: string | null): string {
  const first = value === null ? undefined : parseAddressList(value)[0];
  if (!first) return '';
  if (first.kind === 'group') return first.name;
  return first.mailbox === MISSING_MAILBOX ? '' : first.mailbox;
}

/** The keys of one message from its bytes (only the top-level header section is read). */
export function addressKeysOf(raw: Buffer): AddressKeys {
  const fields = parseHeaderBlock(raw, 0, findHeaderEnd(raw, 0, raw.length));
  const first = (name: string): string | null => fields.find((f) => f.name.toLowerCase() === name)?.value ?? null;
  return { FROM: firstAddrMailbox(first('from')), TO: firstAddrMailbox(first('to')), CC: firstAddrMailbox(first('cc')) };
}

/** The keys of `messages` by message key: cached ones, the others read a few at a time. */
export async function readAddressKeys(service: MailboxService, messages: readonly StoredMessage[]): Promise<Map<string, AddressKeys>> {
  const out = new Map<string, AddressKeys>();
  const missing: StoredMessage[] = [];
  for (const message of messages) {
    const keys = cache.get(message.messageKey);
    if (keys) out.set(message.messageKey, keys);
    else missing.push(message);
  }
  let next = 0;
  async function worker(): Promise<void> {
    while (next < missing.length) {
      const message = missing[next++];
      const keys = addressKeysOf(await service.messageBytes(message));
      cache.set(message.messageKey, keys);
      out.set(message.messageKey, keys);
    }
  }
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, missing.length) }, worker));
  return out;
}
