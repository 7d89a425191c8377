/**
 * `MailboxService` on the log (DESIGN.md §1.2): a change is a `MailboxCommand` produced to
 * `mailbox.commands` (keyed by user, so one user's changes apply in order); the store stage
 * applies it and emits a `MailboxEvent` carrying the command's id, which reaches this process
 * through the push bus. The caller's promise resolves with that event — an IMAP `OK` is sent
 * only once the change is durable in the store.
 *
 * APPEND goes through the receiving flow like SMTP mail (raw bytes to the blob store, one
 * `mail.received` record), so appended mail is parsed, split, stored and indexed the same way.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Log } from '../connectors/log/log.ts';
import type { BlobStore } from '../connectors/blob/blob.ts';
import { readMessageBytes } from '../connectors/blob/body.ts';
import type { MailStore, StoredMessage } from '../connectors/store/store.ts';
import type { SearchIndex } from '../connectors/search/search.ts';
import type { PushBus } from '../connectors/push/push.ts';
import type { MailboxCommand, MailboxCommandBody, MailboxEvent, MailReceived } from '../schemas/types.ts';
import { schemaType } from '../schemas/registry.ts';
import { CommandFailedError, type Appended, type AppendRequest, type MailboxService } from './mailbox-service.ts';

export interface LogMailboxServiceOptions {
  readonly log: Log;
  readonly store: MailStore;
  readonly search: SearchIndex;
  readonly blobs: BlobStore;
  /** Where the store stage's events arrive (the push stage publishes every applied event). */
  readonly push: PushBus;
  readonly logger: Logger;
  readonly commandsTopic?: string;
  readonly receivedTopic?: string;
  /** How long to wait for the store stage to apply a change before giving up on an answer. */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

interface Waiter {
  resolve(event: MailboxEvent): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const commandType = schemaType('MailboxCommand');
const receivedType = schemaType('MailReceived');

export class LogMailboxService implements MailboxService {
  readonly store: MailStore;
  readonly search: SearchIndex;
  private readonly waiters = new Map<string, Waiter>();
  private readonly unsubscribe: (() => void)[];
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: LogMailboxServiceOptions) {
    this.store = options.store;
    this.search = options.search;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.now = options.now ?? Date.now;
    // Answer from whichever comes first: the store stage's early announcement or the event itself.
    this.unsubscribe = [
      options.push.subscribeApplied((event) => this.settle(event)),
      options.push.subscribeAll((event) => this.settle(event)),
    ];
  }

  async change(userId: string, body: MailboxCommandBody): Promise<MailboxEvent> {
    const commandId = `${Object.keys(body).find((k) => body[k as keyof MailboxCommandBody] != null) ?? 'change'}:${randomUUID()}`;
    const command: MailboxCommand = { commandId, userId, issuedAt: this.now(), deliver: null, ...body };
    const answer = this.wait(commandId);
    try {
      await this.options.log.produce([
        { topic: this.options.commandsTopic ?? 'mailbox.commands', key: userId, value: commandType.toBuffer(command) },
      ]);
    } catch (err) {
      this.cancel(commandId, err instanceof Error ? err : new Error(String(err)));
    }
    const event = await answer;
    if (event.failed) throw new CommandFailedError(event.failed.code, event.failed.message);
    return event;
  }

  async append(userId: string, request: AppendRequest): Promise<Appended> {
    const target = await this.store.mailbox(userId, request.mailbox);
    if (!target) throw new CommandFailedError('TRYCREATE', `no mailbox ${request.mailbox}`);
    const ingressId = `imap-append:${randomUUID()}`;
    // The key the split stage gives the delivery (processors/split-attachments.ts).
    const messageKey = `${ingressId}:${userId.toLowerCase()}`;
    const answer = this.wait(`deliver:${messageKey}`);
    try {
      const rawBlob = await this.options.blobs.put(request.raw);
      const received: MailReceived = {
        ingressId,
        userId,
        recipient: userId,
        mailFrom: '',
        source: 'imap',
        remoteAddress: '',
        helo: '',
        receivedAt: request.internalDate,
        rawBlob,
        size: request.raw.length,
        mailbox: target.name,
        flags: [...request.flags],
      };
      await this.options.log.produce([
        { topic: this.options.receivedTopic ?? 'mail.received', key: userId, value: receivedType.toBuffer(received) },
      ]);
    } catch (err) {
      this.cancel(`deliver:${messageKey}`, err instanceof Error ? err : new Error(String(err)));
    }
    const event = await answer;
    const delivered = event.delivered;
    if (!delivered) throw new Error(`append: unexpected event ${event.eventId}`);
    const mailbox = await this.store.mailboxById(delivered.mailboxId);
    return { mailboxId: delivered.mailboxId, uidValidity: mailbox?.uidValidity ?? 0, uid: delivered.uid };
  }

  messageBytes(message: StoredMessage): Promise<Buffer> {
    return readMessageBytes(this.options.blobs, message.body);
  }

  watch(userId: string, listener: (event: MailboxEvent) => void): () => void {
    return this.options.push.subscribe(userId, listener);
  }

  /** Stops listening; pending changes are answered with an error. */
  close(): void {
    for (const stop of this.unsubscribe) stop();
    for (const id of [...this.waiters.keys()]) this.cancel(id, new Error('mailbox service closed'));
  }

  private wait(id: string): Promise<MailboxEvent> {
    return new Promise<MailboxEvent>((resolve, reject) => {
      const timer = setTimeout(
        () => this.cancel(id, new Error(`no answer from the store stage within ${this.timeoutMs} ms (${id})`)),
        this.timeoutMs,
      );
      timer.unref();
      this.waiters.set(id, { resolve, reject, timer });
    });
  }

  private cancel(id: string, err: Error): void {
    const waiter = this.waiters.get(id);
    if (!waiter) return;
    this.waiters.delete(id);
    clearTimeout(waiter.timer);
    this.options.logger.warn({ err, commandId: id }, 'mailbox change not answered');
    waiter.reject(err);
  }

  private settle(event: MailboxEvent): void {
    const id = event.commandId ?? event.eventId;
    const waiter = this.waiters.get(id);
    if (!waiter) return;
    this.waiters.delete(id);
    clearTimeout(waiter.timer);
    waiter.resolve(event);
  }
}
