/**
 * The quarantine: infected messages, kept and never shown (no mailbox holds them, so IMAP, POP3
 * and JMAP cannot see them). The `virus` stage writes an entry, idempotent by message key;
 * `sluice quarantine list|release|delete` reads and removes them. A release sends the kept
 * record on, past the virus stage, to be stored; the entry stays, marked released, until deleted.
 */
import type { ParsedMail } from '../../schemas/types.ts';

export interface QuarantineEntry {
  /** Ingress id + recipient, as the store's message key. */
  readonly messageKey: string;
  readonly userId: string;
  readonly quarantinedAt: number;
  readonly viruses: readonly string[];
  /** The record as the virus stage received it (its raw blob is the message, headers added). */
  readonly record: ParsedMail;
  /** Topic and key a release appends the record to. */
  readonly releaseTopic: string;
  readonly releasedAt: number | null;
}

export interface Quarantine {
  /** Keeps an entry; a second put of the same key changes nothing (replays). */
  put(entry: Omit<QuarantineEntry, 'releasedAt'>): Promise<void>;
  list(userId?: string): Promise<QuarantineEntry[]>;
  get(messageKey: string): Promise<QuarantineEntry | null>;
  markReleased(messageKey: string, at: number): Promise<void>;
  /** False when there was no such entry. */
  delete(messageKey: string): Promise<boolean>;
  close(): Promise<void>;
}
