/**
 * The processor contract. A stage of a topology names a processor; the runner feeds it the
 * records of the stage's input topic, decoded with the topic's Avro schema.
 *
 * - `process` is a function of one input record and the resources: it keeps no state between
 *   records (stateless stages; scaling out is more partitions and more runners).
 * - It returns the outputs; `[]` means the record is filtered (or the stage is a sink). Outputs
 *   go to the stage's `to` topic unless they name another declared output; their keys derive
 *   from the input (per-user order is kept by keying on the user id).
 * - Side effects on sinks (store, index, blobs, push) must be idempotent: the runner commits
 *   outputs and input offsets atomically after `process` returns, so a crash in between replays
 *   the record.
 * - A thrown error goes to the stage's policy: the record and the error are written to the
 *   stage's dead-letter topic and the partition moves on. Throw `RetryableError` for a passing
 *   fault (a scanner down, a full disk): the runner then retries with backoff instead.
 * - `create` returns a fresh instance each call.
 */
import type { ZodType } from 'zod';
import type { Logger } from 'pino';
import type { BlobStore } from '../connectors/blob/blob.ts';
import type { MailStore } from '../connectors/store/store.ts';
import type { SearchIndex } from '../connectors/search/search.ts';
import type { PushBus } from '../connectors/push/push.ts';
import type { ScanResources } from '../connectors/scan/resources.ts';
import type { OutboundResources } from '../connectors/outbound.ts';
import type { QueueControlReader } from '../connectors/queue-control.ts';

export interface InputRecord<T> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly value: T;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: number;
}

export interface OutputRecord<T> {
  /** Defaults to the stage's (first) `to` topic. */
  readonly topic?: string;
  readonly key: string;
  readonly value: T;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a processor may use: the connectors, a logger and a clock. */
export interface Resources {
  readonly blobs: BlobStore;
  readonly store: MailStore;
  readonly search: SearchIndex;
  readonly push: PushBus;
  readonly logger: Logger;
  readonly now: () => number;
  /** Scanners, quarantine and DNS for the spam and virus stages; absent: those stages refuse to start. */
  readonly scan?: ScanResources;
  /** DNS, SMTP client, DKIM keys and policy for the sending flow; absent: its stages refuse to start. */
  readonly outbound?: OutboundResources;
  /** The outgoing queue's operator marks (`sluice queue drop | retry-now`); absent: nothing is skipped. */
  readonly queue?: QueueControlReader;
}

export interface Processor<I = unknown, O = unknown> {
  process(record: InputRecord<I>): Promise<OutputRecord<O>[]>;
  /**
   * Optional: a whole batch at once (one store transaction for many records). Must give the
   * same outputs as `process` on each record, in order. If it throws, the runner falls back to
   * `process` record by record so one bad record cannot hold up the others.
   */
  processBatch?(records: readonly InputRecord<I>[]): Promise<OutputRecord<O>[][]>;
  close?(): Promise<void>;
}

export interface ProcessorSpec<C> {
  readonly description: string;
  /** Avro schema name of the input records. */
  readonly input: string;
  /** Avro schema name of the outputs; null for a sink. */
  readonly output: string | null;
  /**
   * Other schemas it may write, to `to` topics after the first that carry them (e.g. `deliver`
   * writes a retry record, a DSN for the receiving flow and a delivery result).
   */
  readonly extraOutputs?: readonly string[];
  /** Validates the stage's `config:` block from the topology file, with defaults. */
  readonly config: ZodType<C>;
}

export interface ProcessorDefinition<C = unknown, I = unknown, O = unknown> {
  readonly name: string;
  readonly spec: ProcessorSpec<C>;
  create(config: C, resources: Resources): Processor<I, O>;
}

/** A passing fault: the runner retries the record with backoff rather than dead-lettering it. */
export class RetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryableError';
  }
}
