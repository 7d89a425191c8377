/**
 * The mail store: domains, users, mailboxes and messages (embedded: SQLite; distributed:
 * Cassandra). It is a materialized view of the log: the `store` stage is its only writer of
 * mailbox state, and every write is idempotent (messages are keyed by `messageKey`, derived
 * from the ingress id and the recipient), so replaying the log after a crash changes nothing.
 * Access servers read it directly.
 */
import type { EngineHealth } from '../health.ts';

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
  /** POP3 leaves mail on the server instead of expunging what the client deleted (per-user setting). */
  readonly pop3KeepMail: boolean;
}

export interface UserUpdate {
  readonly passwordHash?: string;
  readonly pop3KeepMail?: boolean;
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
  /** IMAP SUBSCRIBE state (RFC 9051 §6.3.7). */
  readonly subscribed: boolean;
  /** Sum of the messages' sizes (STATUS=SIZE, RFC 8438). */
  readonly size: number;
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

/** What changed in a mailbox since a MODSEQ (RFC 7162 CONDSTORE/QRESYNC, and IMAP sessions' updates). */
export interface MailboxChanges {
  /** Messages whose MODSEQ is above `since` (new or with changed flags), in UID order. */
  readonly changed: StoredMessage[];
  /** UIDs expunged at a MODSEQ above `since`, ascending (kept as tombstones for VANISHED). */
  readonly expunged: number[];
  readonly highestModseq: number;
}

/** The lean per-message facts an IMAP session keeps for its sequence-number map. */
export interface MessageSummary {
  readonly uid: number;
  readonly modseq: number;
  readonly flags: readonly string[];
}

/**
 * What FETCH needs of a message when it needs no bytes (RFC 9051 §6.4.5: UID, FLAGS,
 * INTERNALDATE, RFC822.SIZE; MODSEQ, RFC 7162 §3.1.4) and the key its cached structure values
 * go by: a lean row, so FETCH 1:* of a large mailbox reads only these columns.
 */
export interface MessageFacts extends MessageSummary {
  readonly messageKey: string;
  readonly receivedAt: number;
  readonly size: number;
}

/**
 * A client change to apply (the store stage maps each MailboxCommand to one). `commandId` makes
 * it idempotent: applying an id a second time returns the first result and changes nothing.
 */
export type MailboxChange =
  | { readonly kind: 'setFlags'; readonly commandId: string; readonly userId: string; readonly mailboxId: number;
      readonly uids: readonly number[]; readonly mode: 'add' | 'remove' | 'replace'; readonly flags: readonly string[];
      readonly unchangedSince: number | null }
  | { readonly kind: 'copy'; readonly commandId: string; readonly userId: string; readonly fromMailboxId: number;
      readonly uids: readonly number[]; readonly toMailbox: string; readonly move: boolean }
  | { readonly kind: 'expunge'; readonly commandId: string; readonly userId: string; readonly mailboxId: number;
      readonly uids: readonly number[]; readonly onlyDeleted: boolean }
  | { readonly kind: 'createMailbox'; readonly commandId: string; readonly userId: string; readonly name: string;
      readonly specialUse: SpecialUse | null }
  | { readonly kind: 'renameMailbox'; readonly commandId: string; readonly userId: string; readonly from: string; readonly to: string }
  | { readonly kind: 'deleteMailbox'; readonly commandId: string; readonly userId: string; readonly name: string }
  | { readonly kind: 'subscribe'; readonly commandId: string; readonly userId: string; readonly name: string; readonly subscribed: boolean };

/** The result of a change, shaped like the MailboxEvent field the store stage emits for it. */
export type MailboxChangeResult =
  | { readonly kind: 'flagsChanged'; readonly mailboxId: number; readonly mailbox: string; readonly modseq: number;
      readonly changed: readonly { messageKey: string; uid: number; modseq: number; flags: string[] }[];
      readonly conflicts: readonly number[] }
  | { readonly kind: 'copied'; readonly fromMailboxId: number; readonly toMailboxId: number; readonly toMailbox: string;
      readonly uidValidity: number; readonly moved: boolean; readonly sourceUids: readonly number[];
      readonly targetUids: readonly number[]; readonly copies: readonly { fromKey: string; toKey: string }[]; readonly modseq: number }
  | { readonly kind: 'expunged'; readonly mailboxId: number; readonly mailbox: string; readonly uids: readonly number[];
      readonly messageKeys: readonly string[]; readonly modseq: number }
  | { readonly kind: 'mailboxChanged'; readonly change: 'created' | 'renamed' | 'deleted' | 'subscribed' | 'unsubscribed';
      readonly mailboxId: number; readonly name: string; readonly oldName: string | null; readonly removedKeys: readonly string[] }
  | { readonly kind: 'failed'; readonly code: 'NONEXISTENT' | 'ALREADYEXISTS' | 'TRYCREATE' | 'CANNOT' | 'LIMIT' | 'USEATTR';
      readonly message: string };

export interface DeliverResult {
  readonly message: StoredMessage;
  /** False when the key was already stored (a replay): nothing changed. */
  readonly created: boolean;
}

/** Of a store write. */
export interface WriteOptions<R> {
  /**
   * Called with the results once the write is visible to readers, if that is before it is
   * durable (the embedded store: committed, its fsync under way); a store that cannot tell
   * the two apart does not call it. A power cut before the fsync rolls the write back with
   * every later one (a suffix), and the store stage, whose offsets wait for the returned
   * promise, writes them again from the log with the same results: ids, UIDs and MODSEQs follow
   * from log order (only a mailbox created again gets a new UIDVALIDITY, which tells clients to
   * forget what they knew of its UIDs: RFC 9051 §2.3.1.1).
   */
  visible?: (results: R[]) => void;
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
  /** Directory change (CLI): password, POP3 keep-mail setting. Throws if the user does not exist. */
  updateUser(userId: string, update: UserUpdate): Promise<User>;

  // — mailboxes —
  mailboxes(userId: string): Promise<Mailbox[]>;
  mailbox(userId: string, name: string): Promise<Mailbox | null>;
  mailboxById(mailboxId: number): Promise<Mailbox | null>;
  /** Subscribed names (RFC 9051 §6.3.7: kept even when the mailbox no longer exists). */
  subscriptions(userId: string): Promise<string[]>;
  /** Storage used by all of a user's mailboxes (QUOTA, RFC 9208). */
  usage(userId: string): Promise<{ messages: number; bytes: number }>;

  // — messages (writes: the store stage only) —
  /** Idempotent by `messageKey`; assigns UID, MODSEQ and thread id. Many in one durable transaction. */
  deliver(requests: readonly DeliverRequest[], options?: WriteOptions<DeliverResult>): Promise<DeliverResult[]>;
  /**
   * Client changes, in order, in one durable transaction. Idempotent by `commandId`. A change
   * that cannot apply (unknown mailbox, name taken …) yields `kind: 'failed'` and changes nothing;
   * only store faults throw.
   */
  apply(changes: readonly MailboxChange[], options?: WriteOptions<MailboxChangeResult>): Promise<MailboxChangeResult[]>;
  /** Messages of one mailbox in UID order, from `afterUid` (exclusive), at most `limit`. */
  messages(mailboxId: number, afterUid?: number, limit?: number): Promise<StoredMessage[]>;
  message(messageKey: string): Promise<StoredMessage | null>;
  /** Messages of one mailbox with these UIDs (missing ones skipped), in UID order. */
  messagesByUid(mailboxId: number, uids: readonly number[]): Promise<StoredMessage[]>;
  /** `MessageFacts` of the messages of one mailbox with these UIDs (missing ones skipped), in UID order. */
  messageFacts(mailboxId: number, uids: readonly number[]): Promise<MessageFacts[]>;
  /** UID, MODSEQ and flags of every message of a mailbox, in UID order (one cheap query). */
  summaries(mailboxId: number): Promise<MessageSummary[]>;
  /** What changed since `sinceModseq` (exclusive). */
  changes(mailboxId: number, sinceModseq: number): Promise<MailboxChanges>;
  /** Whether the user already has a message with this Message-ID header (import de-duplication). */
  hasMessageId(userId: string, messageId: string): Promise<boolean>;
  /** Message keys of one thread, in received order. */
  thread(userId: string, threadId: string): Promise<StoredMessage[]>;
  countMessages(userId?: string): Promise<number>;
  /** One cheap round trip to the engine (`connectors/health.ts`); never throws. */
  health(): Promise<EngineHealth>;
  close(): Promise<void>;
}
