/**
 * What the session offers the command handlers of the authenticated state (`commands/*.ts`
 * written here: mailboxes, LIST, STATUS, APPEND, QUOTA, SELECT …). The selected-state message
 * handlers get the narrower `ImapContext` of `context.ts`.
 */
import type { Logger } from 'pino';
import type { User } from '../../connectors/store/store.ts';
import type { MailboxService } from '../mailbox-service.ts';
import type { EnabledExtensions } from './context.ts';
import type { SelectedMailbox } from './selected-view.ts';

export interface ImapSettings {
  readonly hostname: string;
  /** APPENDLIMIT (RFC 7889). */
  readonly maxMessageSize: number;
  /** QUOTA STORAGE limit in bytes for every user (RFC 9208); null: no quota roots. */
  readonly quotaBytes: number | null;
  /** QUOTA MESSAGE limit (RFC 9208 §5.2); null: not reported. */
  readonly quotaMessages: number | null;
}

export interface SessionApi {
  readonly user: User;
  readonly service: MailboxService;
  readonly enabled: EnabledExtensions;
  readonly logger: Logger;
  readonly settings: ImapSettings;
  /** The selected mailbox, or null in the authenticated state. */
  readonly selected: SelectedMailbox | null;
  /** Enters the selected state with `view` (null: back to authenticated). */
  select(view: SelectedMailbox | null): void;
  /** Untagged response bytes; each call one or more complete lines. */
  write(...chunks: (string | Buffer)[]): void;
  /** A mailbox name from the wire (modified UTF-7 unless UTF-8 is enabled), INBOX normalised. Throws ImapError BAD. */
  decodeMailboxName(name: string): string;
  /** A mailbox name for the wire. */
  encodeMailboxName(name: string): string;
}
