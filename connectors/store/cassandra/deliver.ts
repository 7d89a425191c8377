/**
 * `MailStore.deliver` on Cassandra. Idempotent by message key: a key found in `message_keys` is
 * answered from what is stored. A new message takes its folder's UIDNEXT and HIGHESTMODSEQ + 1
 * (RFC 9051 §2.3.1.1, RFC 7162 §3.1) — read from the folder row once per call and advanced in
 * memory: the store stage is the only writer — and is written with the advanced folder row in
 * one logged batch, so the counters and the rows they count land together or not at all.
 */
import type { DeliverRequest, DeliverResult } from '../store.ts';
import { checkNewMailboxName, mailboxName, storedFlags } from '../sqlite/names.ts';
import type { Cql, Statement } from './cql.ts';
import type { BoxState, MailboxTable } from './mailboxes.ts';
import { UserBoxes } from './mailboxes.ts';
import type { MessageRecord, MessageTable } from './messages.ts';
import { isSeen, toStored } from './messages.ts';
import type { ThreadIndex } from './threads.ts';

/** Users whose deliveries of one call are written at the same time. */
const USERS_AT_ONCE = 16;
/** Message-key look-ups in flight at once before a call's deliveries. */
const KEY_LOOKUPS_AT_ONCE = 64;

export class Deliveries {
  constructor(
    private readonly cql: Cql,
    private readonly boxes: MailboxTable,
    private readonly messages: MessageTable,
    private readonly threads: ThreadIndex,
    private readonly userExists: (userId: string) => Promise<boolean>,
  ) {}

  /**
   * Each user's requests in order, one at a time (UIDs follow the log order); different users'
   * at once (their rows share no partition and no counter), at most `USERS_AT_ONCE` of them.
   */
  async deliver(requests: readonly DeliverRequest[]): Promise<DeliverResult[]> {
    const users = new Map<string, UserBoxes>();
    const results: DeliverResult[] = new Array<DeliverResult>(requests.length);
    const byUser = new Map<string, number[]>();
    requests.forEach((r, i) => {
      const id = r.userId.toLowerCase();
      byUser.set(id, [...(byUser.get(id) ?? []), i]);
    });
    const stored = await this.storedKeys(requests);
    const queues = [...byUser.values()];
    const worker = async () => {
      for (let queue = queues.shift(); queue; queue = queues.shift()) {
        for (const i of queue) results[i] = await this.one(requests[i], users, stored);
      }
    };
    // Every worker finishes before a failure is reported: no write goes on behind the caller's back.
    const settled = await Promise.allSettled(Array.from({ length: Math.min(USERS_AT_ONCE, queues.length) }, worker));
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) throw failure.reason;
    return results;
  }

  /** The keys of these requests that are stored already (a replay): looked up all at once, not one per delivery. */
  private async storedKeys(requests: readonly DeliverRequest[]): Promise<Set<string>> {
    const keys = [...new Set(requests.map((r) => r.messageKey))];
    const stored = new Set<string>();
    for (let i = 0; i < keys.length; i += KEY_LOOKUPS_AT_ONCE) {
      await Promise.all(keys.slice(i, i + KEY_LOOKUPS_AT_ONCE).map(async (key) => {
        if (await this.cql.row('SELECT message_key FROM message_keys WHERE message_key = ?', [key])) stored.add(key);
      }));
    }
    return stored;
  }

  private async one(request: DeliverRequest, users: Map<string, UserBoxes>, stored: Set<string>): Promise<DeliverResult> {
    const existing = stored.has(request.messageKey) ? await this.messages.byKey(request.messageKey) : null;
    if (existing) {
      const boxes = await this.userBoxes(existing.userId, users);
      return { created: false, message: toStored(existing, boxes?.byId(existing.mailboxId)?.name ?? '') };
    }
    const userId = request.userId.toLowerCase();
    const boxes = await this.userBoxes(userId, users);
    if (!boxes) throw new Error(`cannot deliver ${request.messageKey}: unknown user ${userId}`);
    const out: Statement[] = [];
    const target = await this.targetMailbox(boxes, mailboxName(request.mailbox), out);

    const threadId = await this.threads.assign(
      { userId, messageKey: request.messageKey, messageId: request.messageId, inReplyTo: request.inReplyTo, references: request.references },
      out,
    );
    const flags = storedFlags(request.flags);
    const record: MessageRecord = {
      messageKey: request.messageKey,
      userId,
      mailboxId: target.id,
      uid: target.uidNext,
      modseq: target.highestModseq + 1,
      threadId,
      flags,
      receivedAt: request.receivedAt,
      size: request.size,
      body: request.body,
      messageId: request.messageId,
      inReplyTo: request.inReplyTo,
      references: request.references,
      subject: request.subject,
      from: request.from,
      to: request.to,
      cc: request.cc,
      date: request.date,
    };
    target.uidNext += 1;
    target.highestModseq += 1;
    target.messages += 1;
    target.size += record.size;
    if (!isSeen(flags)) target.unseen += 1;
    boxes.touch(target);
    out.push(...this.messages.insert(record), ...boxes.drain());
    await this.cql.batch(out);
    stored.add(record.messageKey);
    return { created: true, message: toStored(record, target.name) };
  }

  private async userBoxes(userId: string, users: Map<string, UserBoxes>): Promise<UserBoxes | null> {
    let boxes = users.get(userId);
    if (!boxes) {
      if (!(await this.userExists(userId))) return null;
      boxes = await UserBoxes.load(this.boxes, userId);
      users.set(userId, boxes);
    }
    return boxes;
  }

  /**
   * The folder a delivery goes to; a name the user does not have yet (an imported folder) is
   * created — with its missing superiors when the name is a valid hierarchy — and subscribed,
   * as IMAP APPEND's [TRYCREATE] would let a client do (RFC 9051 §6.3.12).
   */
  private async targetMailbox(boxes: UserBoxes, name: string, out: Statement[]): Promise<BoxState> {
    const found = boxes.get(name);
    if (found) return found;
    if (!name.trim() || name.length > 1000) return boxes.get('INBOX')!;
    const checked = checkNewMailboxName(name);
    if ('name' in checked && checked.name === name) await boxes.createParents(name, true, out);
    const box = await boxes.create(name, null, out);
    out.push(this.boxes.subscribe(boxes.userId, name, true));
    return box;
  }
}
