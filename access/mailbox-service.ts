/**
 * What the access servers (IMAP, POP3, later JMAP) need from the rest of Sluice, behind one
 * small interface (DESIGN.md §1.2): reads go to the mail store (a read model), every change
 * goes through `mailbox.commands` and is answered once the store stage applied it, and the
 * push bus wakes sessions when anything changes. `service.ts` implements it on the log.
 */
import type { MailStore, StoredMessage } from '../connectors/store/store.ts';
import type { SearchIndex } from '../connectors/search/search.ts';
import type { MailboxCommandBody, MailboxEvent } from '../schemas/types.ts';

export interface AppendRequest {
  readonly mailbox: string;
  readonly flags: readonly string[];
  /** Internal date, ms since epoch (IMAP APPEND date-time; now when absent). */
  readonly internalDate: number;
  readonly raw: Buffer;
}

export interface Appended {
  readonly mailboxId: number;
  readonly uidValidity: number;
  readonly uid: number;
}

export interface MailboxService {
  /** The read model: mailboxes, messages, flags, changes since a MODSEQ. Never written through here. */
  readonly store: MailStore;
  readonly search: SearchIndex;
  /**
   * Sends one change (exactly one field of `body` set) to `mailbox.commands` and resolves with
   * the event the store stage emitted for it. A change the store refused rejects with
   * `CommandFailedError` (its `code` is an RFC 5530 response code); no answer within the time
   * limit rejects with an Error (the change may still apply later).
   */
  change(userId: string, body: MailboxCommandBody): Promise<MailboxEvent>;
  /** IMAP APPEND: stores the bytes, sends them through the receiving flow, resolves once delivered. */
  append(userId: string, request: AppendRequest): Promise<Appended>;
  /** The full RFC 5322 bytes of a stored message. */
  messageBytes(message: StoredMessage): Promise<Buffer>;
  /** Every event the store applied for this user (new mail, flags, expunges, folders). Returns unsubscribe. */
  watch(userId: string, listener: (event: MailboxEvent) => void): () => void;
}

/** The store refused a change; nothing changed. */
export class CommandFailedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CommandFailedError';
  }
}
