/** TypeScript shapes of the Avro records in this folder (kept in step with the .avsc files by schemas.test.ts). */

export interface AddressRecord {
  name: string;
  address: string;
}

export interface MailReceived {
  ingressId: string;
  userId: string;
  recipient: string;
  mailFrom: string;
  source: string;
  remoteAddress: string;
  helo: string;
  receivedAt: number;
  rawBlob: string;
  size: number;
  mailbox: string;
  flags: string[];
}

export interface AttachmentInfo {
  filename: string | null;
  contentType: string;
  size: number;
}

export interface ParsedMail {
  received: MailReceived;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  subject: string;
  from: AddressRecord[];
  to: AddressRecord[];
  cc: AddressRecord[];
  date: number | null;
  addedHeaders: string;
  headers: string;
  text: string;
  attachments: AttachmentInfo[];
}

export interface SplitPart {
  offset: number;
  length: number;
  blob: string;
}

export interface DeliverMessage {
  messageKey: string;
  mailbox: string;
  flags: string[];
  receivedAt: number;
  size: number;
  rawBlob: string;
  skeletonBlob: string;
  parts: SplitPart[];
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  subject: string;
  from: AddressRecord[];
  to: AddressRecord[];
  cc: AddressRecord[];
  date: number | null;
  headers: string;
  text: string;
  attachmentNames: string[];
}

export interface MailboxCommand {
  commandId: string;
  userId: string;
  issuedAt: number;
  deliver: DeliverMessage | null;
  // Client changes (IMAP, POP3, JMAP). Optional here: avsc writes a field left undefined as its
  // default (null), so producers name only the command they send.
  setFlags?: SetFlags | null;
  copy?: CopyMessages | null;
  expunge?: ExpungeMessages | null;
  createMailbox?: CreateMailbox | null;
  renameMailbox?: RenameMailbox | null;
  deleteMailbox?: DeleteMailbox | null;
  subscribe?: SubscribeMailbox | null;
}

/** Fields of a MailboxCommand that name what to do (all but the envelope). */
export type MailboxCommandBody = Omit<MailboxCommand, 'commandId' | 'userId' | 'issuedAt' | 'deliver'>;

export type FlagMode = 'add' | 'remove' | 'replace';

export interface SetFlags {
  mailboxId: number;
  uids: number[];
  mode: FlagMode;
  flags: string[];
  unchangedSince: number | null;
}

export interface CopyMessages {
  fromMailboxId: number;
  uids: number[];
  toMailbox: string;
  move: boolean;
}

export interface ExpungeMessages {
  mailboxId: number;
  uids: number[];
  onlyDeleted: boolean;
}

export interface CreateMailbox {
  name: string;
  specialUse: string | null;
}

export interface RenameMailbox {
  from: string;
  to: string;
}

export interface DeleteMailbox {
  name: string;
}

export interface SubscribeMailbox {
  name: string;
  subscribed: boolean;
}

export interface MessageDelivered {
  messageKey: string;
  mailboxId: number;
  mailbox: string;
  uid: number;
  modseq: number;
  threadId: string;
  receivedAt: number;
  size: number;
  subject: string;
  from: AddressRecord[];
  to: AddressRecord[];
  cc: AddressRecord[];
  headers: string;
  text: string;
  attachmentNames: string[];
}

export interface MailboxEvent {
  eventId: string;
  userId: string;
  at: number;
  commandId?: string | null;
  delivered: MessageDelivered | null;
  flagsChanged?: FlagsChanged | null;
  copied?: MessagesCopied | null;
  expunged?: MessagesExpunged | null;
  mailboxChanged?: MailboxChanged | null;
  failed?: CommandFailed | null;
}

export interface FlagChange {
  messageKey: string;
  uid: number;
  modseq: number;
  flags: string[];
}

export interface FlagsChanged {
  mailboxId: number;
  mailbox: string;
  modseq: number;
  changed: FlagChange[];
  conflicts: number[];
}

export interface CopiedMessage {
  fromKey: string;
  toKey: string;
}

export interface MessagesCopied {
  fromMailboxId: number;
  toMailboxId: number;
  toMailbox: string;
  uidValidity: number;
  moved: boolean;
  sourceUids: number[];
  targetUids: number[];
  copies: CopiedMessage[];
  modseq: number;
}

export interface MessagesExpunged {
  mailboxId: number;
  mailbox: string;
  uids: number[];
  messageKeys: string[];
  modseq: number;
}

export type MailboxChangeKind = 'created' | 'renamed' | 'deleted' | 'subscribed' | 'unsubscribed';

export interface MailboxChanged {
  change: MailboxChangeKind;
  mailboxId: number;
  name: string;
  oldName: string | null;
  removedKeys: string[];
}

/** Codes from RFC 5530 §3 (and TRYCREATE, RFC 9051 §7.1). */
export type CommandFailureCode = 'NONEXISTENT' | 'ALREADYEXISTS' | 'TRYCREATE' | 'CANNOT' | 'LIMIT' | 'INUSE' | 'OVERQUOTA';

export interface CommandFailed {
  code: CommandFailureCode | string;
  message: string;
}

export interface DeadLetter {
  stage: string;
  topic: string;
  partition: number;
  offset: number;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  error: string;
  failedAt: number;
}

/** Remote recipients of one domain, queued for delivery (topic mail.outbound, key = domain). */
export interface MailOutbound {
  outboundId: string;
  ingressId: string;
  userId: string;
  mailFrom: string;
  domain: string;
  recipients: string[];
  submittedAt: number;
  rawBlob: string;
  size: number;
  attempt: number;
  notBefore: number;
  delayNotified: boolean;
  lastResponses: Record<string, string>;
  scanned: string;
  addedHeaders: string;
}

/** `dropped`: removed from the queue by an operator (`sluice queue drop`, ops/queue.ts). */
export type DeliveryStatus = 'delivered' | 'deferred' | 'failed' | 'expired' | 'delayed' | 'blocked' | 'dropped';

export interface DeliveryResult {
  outboundId: string;
  ingressId: string;
  userId: string;
  domain: string;
  recipient: string;
  attempt: number;
  status: DeliveryStatus;
  code: number;
  response: string;
  host: string;
  at: number;
  nextAttemptAt: number;
}

/** QueueControl.avsc: an operator's drop or retry-now of one pending outgoing record. */
export interface QueueControl {
  action: 'drop' | 'retry-now';
  outboundId: string;
  topic: string;
  partition: number;
  offset: number;
  bounce: boolean;
  by: string;
  at: number;
}
