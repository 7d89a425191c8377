/**
 * The push bus of an access process that does not run the stages (DESIGN.md §1.4: "push to online
 * clients: Kafka consumer in each access node"): it reads `mailbox.events` itself and publishes
 * every event on its local bus, so IMAP IDLE wakes on new mail and the access service answers a
 * client's change once the store stage, in another process, has applied it.
 *
 * The consumer is in a group of its own per process (`push.<host>.<pid>.<random>`), starts at the
 * end of each partition (`endOffsets` + `Consumer.seek`: online clients want what happens from
 * now on, not the history) and never commits, so the group leaves no offsets behind. Push is a
 * hint: sessions re-read the store; an event published twice or a record it cannot decode (logged,
 * skipped) loses nothing. On Kafka, records of a transaction still open when the feed starts are
 * before its starting position: events of that moment, before any client of this process waited.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Consumer, Log } from '../log/log.ts';
import type { PushBus } from './push.ts';
import { schemaType } from '../../schemas/registry.ts';
import type { MailboxEvent } from '../../schemas/types.ts';

export interface LogPushFeedOptions {
  readonly log: Log;
  readonly push: PushBus;
  readonly logger: Logger;
  /** The topic of the store stage's events (the push stage's input); default `mailbox.events`. */
  readonly topic?: string;
  /** Default `push.<host>.<pid>.<random>`: one group per process, so every access process gets every event. */
  readonly group?: string;
  readonly batchSize?: number;
  readonly pollTimeoutMs?: number;
  /** Wait after a failed poll (broker away) before the next; default 1 s. */
  readonly retryDelayMs?: number;
}

export interface LogPushFeed {
  readonly group: string;
  stop(): Promise<void>;
}

/** A consumer group name for this process: letters, digits, `.`, `_`, `-` (Kafka's topic and group characters). */
export function pushFeedGroup(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '_') || 'host';
  return `push.${host}.${process.pid}.${randomBytes(4).toString('hex')}`;
}

/** Starts reading at the current end of every partition of the topic; resolves once positioned. */
export async function startLogPushFeed(options: LogPushFeedOptions): Promise<LogPushFeed> {
  const topic = options.topic ?? 'mailbox.events';
  const group = options.group ?? pushFeedGroup();
  const { log, push, logger } = options;
  const eventType = schemaType('MailboxEvent');
  const consumer: Consumer = await log.consumer(group, [topic]);
  try {
    const ends = await log.endOffsets(topic);
    ends.forEach((offset, partition) => consumer.seek({ topic, partition, offset }));
  } catch (err) {
    await consumer.close();
    throw err;
  }

  let running = true;
  let wakeFromDelay: (() => void) | undefined;
  const loop = (async () => {
    while (running) {
      try {
        for (const record of await consumer.poll(options.batchSize ?? 256, options.pollTimeoutMs ?? 500)) {
          let event: MailboxEvent;
          try {
            event = eventType.fromBuffer(record.value) as MailboxEvent;
          } catch (err) {
            logger.warn({ err, topic, partition: record.partition, offset: record.offset }, 'push feed: a record that is not a MailboxEvent, skipped');
            continue;
          }
          push.publish(event);
        }
      } catch (err) {
        if (!running) break;
        logger.warn({ err, topic, group }, 'push feed: poll failed, trying again');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.retryDelayMs ?? 1000);
          wakeFromDelay = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeFromDelay = undefined;
      }
    }
  })();
  logger.debug({ topic, group }, 'push feed started');

  let stopping: Promise<void> | undefined;
  return {
    group,
    stop() {
      stopping ??= (async () => {
        running = false;
        wakeFromDelay?.();
        await consumer.close();
        await loop;
      })();
      return stopping;
    },
  };
}
