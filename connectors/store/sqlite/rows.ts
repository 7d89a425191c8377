/** Row shapes of the mail store's tables and their mapping to the `MailStore` types. */
import type { Address, BodyRef, Mailbox, SpecialUse, StoredMessage, User } from '../store.ts';

export interface UserRow {
  id: string;
  address: string;
  password_hash: string;
  created_at: number;
  pop3_keep_mail: number;
}

/** The columns `toUser` needs. */
export const USER_COLUMNS = 'id, address, password_hash, created_at, pop3_keep_mail';

export interface MailboxRow {
  id: number;
  user_id: string;
  name: string;
  special_use: string | null;
  uidvalidity: number;
  uidnext: number;
  highestmodseq: number;
  messages: number;
  unseen: number;
  subscribed: number;
  size: number;
}

export interface MessageRow {
  message_key: string;
  user_id: string;
  mailbox_id: number;
  mailbox: string;
  uid: number;
  modseq: number;
  thread_id: string;
  flags: string;
  received_at: number;
  size: number;
  skeleton_blob: string;
  parts: string;
  message_id: string | null;
  subject: string;
  from_json: string;
  to_json: string;
  cc_json: string;
  date: number | null;
}

/** The columns `toMessage` needs, for `SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN mailboxes b …`. */
export const MESSAGE_COLUMNS = `m.message_key, m.user_id, m.mailbox_id, b.name AS mailbox, m.uid, m.modseq, m.thread_id,
  m.flags, m.received_at, m.size, m.skeleton_blob, m.parts, m.message_id, m.subject, m.from_json, m.to_json, m.cc_json, m.date`;

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    address: row.address,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
    pop3KeepMail: row.pop3_keep_mail !== 0,
  };
}

export function toMailbox(row: MailboxRow): Mailbox {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    specialUse: row.special_use as SpecialUse | null,
    uidValidity: row.uidvalidity,
    uidNext: row.uidnext,
    highestModseq: row.highestmodseq,
    messages: row.messages,
    unseen: row.unseen,
    subscribed: row.subscribed !== 0,
    size: row.size,
  };
}

export function toMessage(row: MessageRow): StoredMessage {
  const body: BodyRef = { skeletonBlob: row.skeleton_blob, parts: JSON.parse(row.parts) as BodyRef['parts'] };
  return {
    messageKey: row.message_key,
    userId: row.user_id,
    mailboxId: row.mailbox_id,
    mailbox: row.mailbox,
    uid: row.uid,
    modseq: row.modseq,
    threadId: row.thread_id,
    flags: JSON.parse(row.flags) as string[],
    receivedAt: row.received_at,
    size: row.size,
    body,
    messageId: row.message_id,
    subject: row.subject,
    from: JSON.parse(row.from_json) as Address[],
    to: JSON.parse(row.to_json) as Address[],
    cc: JSON.parse(row.cc_json) as Address[],
    date: row.date,
  };
}
