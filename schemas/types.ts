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
  text: string;
  attachmentNames: string[];
}

export interface MailboxCommand {
  commandId: string;
  userId: string;
  issuedAt: number;
  deliver: DeliverMessage | null;
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
  text: string;
  attachmentNames: string[];
}

export interface MailboxEvent {
  eventId: string;
  userId: string;
  at: number;
  delivered: MessageDelivered | null;
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
