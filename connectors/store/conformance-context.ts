/**
 * What the parts of the `MailStore` conformance suite share: the store under test (it changes
 * when a test reopens it), the test's fresh domain and users, and builders of requests and
 * changes with ids unique to the test (a shared cluster may run several suites at once).
 */
import type { DeliverRequest, MailboxChange, MailboxChangeResult, MailStore, SpecialUse } from './store.ts';

export interface ConformanceContext {
  /** The store under test (a new object after `reopen`). */
  store(): MailStore;
  /** Closes the store and opens it again over the same storage. */
  reopen(): Promise<MailStore>;
  domain(): string;
  alice(): string;
  bob(): string;
  /** A delivery request for `userId` with sensible defaults and a fresh message key. */
  req(userId: string, over?: Partial<DeliverRequest>): DeliverRequest;
  /** A command id not used before. */
  commandId(): string;
}

type Result<K extends MailboxChangeResult['kind']> = Extract<MailboxChangeResult, { kind: K }>;

/** Change builders and a one-change `apply` that checks the result's kind. */
export function changeHelpers(t: ConformanceContext) {
  const user = (over: { userId?: string }) => over.userId ?? t.alice();
  return {
    setFlags: (
      mailboxId: number,
      uids: number[],
      mode: 'add' | 'remove' | 'replace',
      flags: string[],
      over: { unchangedSince?: number | null; userId?: string } = {},
    ): MailboxChange => ({
      kind: 'setFlags', commandId: t.commandId(), userId: user(over), mailboxId, uids, mode, flags, unchangedSince: over.unchangedSince ?? null,
    }),
    copy: (fromMailboxId: number, uids: number[], toMailbox: string, move = false, over: { userId?: string } = {}): MailboxChange => ({
      kind: 'copy', commandId: t.commandId(), userId: user(over), fromMailboxId, uids, toMailbox, move,
    }),
    expunge: (mailboxId: number, uids: number[], onlyDeleted = true, over: { userId?: string } = {}): MailboxChange => ({
      kind: 'expunge', commandId: t.commandId(), userId: user(over), mailboxId, uids, onlyDeleted,
    }),
    create: (name: string, specialUse: string | null = null): MailboxChange => ({
      kind: 'createMailbox', commandId: t.commandId(), userId: t.alice(), name, specialUse: specialUse as SpecialUse | null,
    }),
    rename: (from: string, to: string): MailboxChange => ({ kind: 'renameMailbox', commandId: t.commandId(), userId: t.alice(), from, to }),
    remove: (name: string): MailboxChange => ({ kind: 'deleteMailbox', commandId: t.commandId(), userId: t.alice(), name }),
    subscribe: (name: string, subscribed = true): MailboxChange => ({
      kind: 'subscribe', commandId: t.commandId(), userId: t.alice(), name, subscribed,
    }),
    /** Applies one change and returns its result, failing the test if the kind is not `kind`. */
    async apply<K extends MailboxChangeResult['kind']>(kind: K, change: MailboxChange): Promise<Result<K>> {
      const [result] = await t.store().apply([change]);
      if (result.kind !== kind) throw new Error(`expected ${kind}, got ${JSON.stringify(result)}`);
      return result as Result<K>;
    },
    /** The id of one of alice's mailboxes (throws if missing). */
    async boxId(name: string, userId = t.alice()): Promise<number> {
      const box = await t.store().mailbox(userId, name);
      if (!box) throw new Error(`no mailbox ${name}`);
      return box.id;
    },
  };
}
