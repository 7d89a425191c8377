/**
 * The POP3 maildrop of one session: a snapshot of the user's INBOX taken at login (RFC 1939 §4:
 * message numbers are fixed for the session), the deletion marks of DELE, and the UPDATE state's
 * commit (RFC 1939 §6), which goes through `mailbox.commands` like every change (DESIGN.md §1.2).
 */
import type { Mailbox, StoredMessage, User } from '../../connectors/store/store.ts';
import type { MailboxService } from '../mailbox-service.ts';
import { pop3Errors } from './responses.ts';

export interface MaildropEntry {
  /** Message number, 1-based (RFC 1939 §5). */
  readonly number: number;
  readonly message: StoredMessage;
  /** RFC 1939 §7 UIDL: unique within the maildrop and stable across sessions (1-70 chars 0x21-0x7E). */
  readonly uniqueId: string;
}

export class Maildrop {
  private readonly deleted = new Set<number>();
  private readonly retrieved = new Set<number>();

  private constructor(
    readonly user: User,
    readonly mailbox: Mailbox,
    private readonly entries: readonly MaildropEntry[],
  ) {}

  static async open(service: MailboxService, user: User): Promise<Maildrop> {
    const mailbox = await service.store.mailbox(user.id, 'INBOX');
    if (!mailbox) throw pop3Errors.noMaildrop();
    const messages = await service.store.messages(mailbox.id);
    const entries = messages.map((message, i) => ({
      number: i + 1,
      message,
      uniqueId: `${mailbox.uidValidity}.${message.uid}`,
    }));
    return new Maildrop(user, mailbox, entries);
  }

  /** Messages not marked deleted (RFC 1939 §5 STAT, LIST). */
  visible(): MaildropEntry[] {
    return this.entries.filter((e) => !this.deleted.has(e.number));
  }

  /** STAT: count and octets of the messages not marked deleted. */
  stat(): { count: number; size: number } {
    let count = 0;
    let size = 0;
    for (const e of this.visible()) {
      count++;
      size += e.message.size;
    }
    return { count, size };
  }

  /** The message with this number; RFC 1939 §5: a deleted or unknown number is an error. */
  entry(argument: string): MaildropEntry {
    if (!/^[1-9][0-9]{0,9}$/.test(argument)) throw pop3Errors.noSuchMessage();
    const number = Number(argument);
    const entry = this.entries[number - 1];
    if (!entry) throw pop3Errors.noSuchMessage();
    if (this.deleted.has(number)) throw pop3Errors.alreadyDeleted();
    return entry;
  }

  /** RFC 1939 §5 DELE: only marks; the UPDATE state removes. */
  markDeleted(entry: MaildropEntry): void {
    this.deleted.add(entry.number);
  }

  /** RETR makes the message `\Seen` (at commit). */
  markRetrieved(entry: MaildropEntry): void {
    this.retrieved.add(entry.number);
  }

  /** RFC 1939 §5 RSET: unmarks every deleted message. */
  reset(): void {
    this.deleted.clear();
  }

  /**
   * RFC 1939 §6 UPDATE state: removes the messages marked deleted — or, when the user keeps POP3
   * mail on the server (`User.pop3KeepMail`), only marks them `\Seen` — and marks retrieved ones
   * `\Seen`. Resolves once the store stage applied every change; rejects when one failed.
   */
  async commit(service: MailboxService, keepMail: boolean): Promise<{ expunged: number }> {
    const mailboxId = this.mailbox.id;
    const uidsOf = (numbers: Iterable<number>) => [...numbers].map((n) => this.entries[n - 1].message.uid).sort((a, b) => a - b);
    const seen = new Set<number>(this.retrieved);
    if (keepMail) for (const n of this.deleted) seen.add(n);
    else for (const n of this.deleted) seen.delete(n);
    const seenUids = uidsOf([...seen].filter((n) => !this.entries[n - 1].message.flags.includes('\\Seen')));
    if (seenUids.length > 0) {
      await service.change(this.user.id, { setFlags: { mailboxId, uids: seenUids, mode: 'add', flags: ['\\Seen'], unchangedSince: null } });
    }
    if (keepMail || this.deleted.size === 0) return { expunged: 0 };
    const uids = uidsOf(this.deleted);
    await service.change(this.user.id, { expunge: { mailboxId, uids, onlyDeleted: false } });
    return { expunged: uids.length };
  }
}
