/**
 * Push to online clients: the `push` stage publishes every applied mailbox event here, and
 * access servers (IMAP IDLE, JMAP push, the web client) subscribe per user. Embedded: an
 * in-process bus; distributed: each access node consumes `mailbox.events` itself.
 */
import { EventEmitter } from 'node:events';
import type { MailboxEvent } from '../../schemas/types.ts';

export type PushListener = (event: MailboxEvent) => void;

export interface PushBus {
  publish(event: MailboxEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(userId: string, listener: PushListener): () => void;
  /** Listeners of every user (metrics, tests). */
  subscribeAll(listener: PushListener): () => void;
  /**
   * The store stage announces each event here as soon as its store write is visible to readers
   * (the embedded store: committed, with its fsync under way; see `WriteOptions.visible`), before
   * the log commit that makes it an event on `mailbox.events` (which then reaches `publish`
   * through the push stage). An access server of the embedded mode answers the client that
   * issued the command from this, one fsync and one log hop sooner. Its command is durable in
   * the log already, and a write a power cut takes back is made again from it, the same.
   * Delivery is best effort: listeners must also accept the event from `publish` (whichever
   * comes first).
   */
  publishApplied(event: MailboxEvent): void;
  subscribeApplied(listener: PushListener): () => void;
}

export class InProcessPushBus implements PushBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(event: MailboxEvent): void {
    this.emitter.emit(`user:${event.userId}`, event);
    this.emitter.emit('*', event);
  }

  subscribe(userId: string, listener: PushListener): () => void {
    const channel = `user:${userId}`;
    this.emitter.on(channel, listener);
    return () => this.emitter.off(channel, listener);
  }

  subscribeAll(listener: PushListener): () => void {
    this.emitter.on('*', listener);
    return () => this.emitter.off('*', listener);
  }

  publishApplied(event: MailboxEvent): void {
    this.emitter.emit('applied', event);
  }

  subscribeApplied(listener: PushListener): () => void {
    this.emitter.on('applied', listener);
    return () => this.emitter.off('applied', listener);
  }
}
