/**
 * SORT criteria (RFC 5256 §3) over stored message rows: ARRIVAL (internal date), CC, FROM, TO
 * (the first address's addr-mailbox), DATE (sent date, else internal date), SIZE, SUBJECT (base
 * subject, §2.1), each optionally REVERSE; strings compared with i;ascii-casemap; full ties in
 * sequence-number order.
 */
import type { SortKey } from '../command.ts';
import type { Address, StoredMessage } from '../../../connectors/store/store.ts';
import { baseSubject } from './base-subject.ts';
import type { AddressKeys } from './address-keys.ts';

export interface SortCriterion {
  readonly key: SortKey;
  readonly reverse: boolean;
}

export interface Sortable {
  readonly message: StoredMessage;
  /** Sequence number: the final tie-breaker (RFC 5256 §3). */
  readonly seq: number;
}

function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** RFC 5256 §3: the addr-mailbox (local part) of the first address, or "" when there is none. */
function firstMailbox(addresses: readonly Address[]): string {
  const address = addresses[0]?.address ?? '';
  const at = address.lastIndexOf('@');
  return asciiUpper(at >= 0 ? address.slice(0, at) : address);
}

function keyValue(message: StoredMessage, key: SortKey, addresses: AddressKeys | undefined): string | number {
  switch (key) {
    case 'ARRIVAL':
      return message.receivedAt;
    case 'CC':
      return addresses ? asciiUpper(addresses.CC) : firstMailbox(message.cc);
    case 'DATE':
      return message.date ?? message.receivedAt;
    case 'FROM':
      return addresses ? asciiUpper(addresses.FROM) : firstMailbox(message.from);
    case 'SIZE':
      return message.size;
    case 'SUBJECT':
      return baseSubject(message.subject).key;
    case 'TO':
      return addresses ? asciiUpper(addresses.TO) : firstMailbox(message.to);
  }
}

function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The messages in SORT order (a new array). Key values are computed once per message. FROM, TO
 * and CC come from `addressKeys` (address-keys.ts, by message key) when given, else from the
 * stored address rows (which cannot see groups).
 */
export function sortMessages<T extends Sortable>(
  items: readonly T[],
  criteria: readonly SortCriterion[],
  addressKeys?: ReadonlyMap<string, AddressKeys>,
): T[] {
  const keyed = items.map((item) => {
    const addresses = addressKeys?.get(item.message.messageKey);
    return { item, values: criteria.map((c) => keyValue(item.message, c.key, addresses)) };
  });
  keyed.sort((a, b) => {
    for (let i = 0; i < criteria.length; i++) {
      const order = compare(a.values[i], b.values[i]);
      if (order !== 0) return criteria[i].reverse ? -order : order;
    }
    return a.item.seq - b.item.seq;
  });
  return keyed.map((k) => k.item);
}
