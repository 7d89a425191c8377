/**
 * The mail store: domains, users, mailboxes and messages (embedded: SQLite; distributed:
 * Cassandra). It is a materialized view of the log: the `store` stage is its only writer of
 * mailbox state, and every write is idempotent (messages are keyed by `messageKey`, derived
 * from the ingress id and the recipient), so replaying the log after a crash changes nothing.
 * Access servers read it directly.
 */

export type SpecialUse = '\\Inbox' | '\\Sent' | '\\Drafts' | '\\Junk' | '\\Trash' | '\\Archive';

/** The mailboxes every user has, with their RFC 6154 special-use attributes. */
export const DEFAULT_MAILBOXES: readonly { name: string; specialUse: SpecialUse }[] = [
  { name: 'INBOX', specialUse: '\\Inbox' },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Archive', specialUse: '\\Archive' },
];

export interface User {
  /** Stable id: the lowercase address. Log keys and partitions use it. */
  readonly id: string;
  readonly address: string;
  readonly passwordHash: string;
  readonly createdAt: number;
}

export interface Mailbox {
  readonly id: number;
  readonly userId: string;
  readonly name: string;
  readonly specialUse: SpecialUse | null;
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly highestModseq: number;
  readonly messages: number;
  readonly unseen: number;
}

export interface Address {
  readonly name: string;
  readonly address: string;
}

/** Where a stored message's bytes are: `skeleton` with each part's bytes inserted at its offset. */
export interface BodyRef {
  /** Blob id of the message with the split-off part bodies cut out. */
  readonly skeletonBlob: string;
  /** Cut-out bodies in ascending `offset` order: insert blob `blob` at byte `offset` of the skeleton. */
  readonly parts: readonly { offset: number; length: number; blob: string }[];
}

export interface DeliverRequest {
  /** Deterministic id: ingress id + recipient. Delivering the same key twice stores once. */
  readonly messageKey: string;
  readonly userId: string;
  /** Target mailbox by name ("INBOX"). */
  readonly mailbox: string;
  readonly flags: readonly string[];
  readonly receivedAt: number;
  readonly size: number;
  readonly body: BodyRef;
  readonly messageId: string | null;
  readonly inReplyTo: string | null;
  readonly references: readonly string[];
  readonly subject: string;
  readonly from: readonly Address[];
  readonly to: readonly Address[];
  readonly cc: readonly Address[];
  /** Date: header, ms since epoch. */
  readonly date: number | null;
}

export interface StoredMessage {
  readonly messageKey: string;
  readonly userId: string;
  readonly mailboxId: number;
  readonly mailbox: string;
  readonly uid: number;
  readonly modseq: number;
  readonly threadId: string;
  readonly flags: readonly string[];
  readonly receivedAt: number;
  readonly size: number;
  readonly body: BodyRef;
  readonly messageId: string | null;
  readonly subject: string;
  readonly from: readonly Address[];
  readonly to: readonly Address[];
  readonly cc: readonly Address[];
  readonly date: number | null;
}

export interface DeliverResult {
  readonly message: StoredMessage;
  /** False when the key was already stored (a replay): nothing changed. */
  readonly created: boolean;
}

export interface MailStore {
  // — directory —
  addDomain(name: string): Promise<void>;
  domains(): Promise<string[]>;
  isLocalDomain(name: string): Promise<boolean>;
  /** Creates the user and its default mailboxes; throws if the user exists or the domain is not local. */
  addUser(address: string, passwordHash: string): Promise<User>;
  user(address: string): Promise<User | null>;
  users(): Promise<User[]>;

  // — mailboxes —
  mailboxes(userId: string): Promise<Mailbox[]>;
  mailbox(userId: string, name: string): Promise<Mailbox | null>;

  // — messages (writes: the store stage only) —
  /** Idempotent by `messageKey`; assigns UID, MODSEQ and thread id. Many in one durable transaction. */
  deliver(requests: readonly DeliverRequest[]): Promise<DeliverResult[]>;
  /** Messages of one mailbox in UID order, from `afterUid` (exclusive), at most `limit`. */
  messages(mailboxId: number, afterUid?: number, limit?: number): Promise<StoredMessage[]>;
  message(messageKey: string): Promise<StoredMessage | null>;
  /** Whether the user already has a message with this Message-ID header (import de-duplication). */
  hasMessageId(userId: string, messageId: string): Promise<boolean>;
  /** Message keys of one thread, in received order. */
  thread(userId: string, threadId: string): Promise<StoredMessage[]>;
  countMessages(userId?: string): Promise<number>;
  close(): Promise<void>;
}
