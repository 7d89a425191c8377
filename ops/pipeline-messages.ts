/** Messages between the server's main thread and its pipeline thread (`pipeline-thread.ts`, `pipeline-worker.ts`). */
import type { Config } from './config.ts';
import type { MailboxEvent } from '../schemas/types.ts';
import type { ProduceRecord, RecordPosition } from '../connectors/log/log.ts';

export interface PipelineWorkerData {
  readonly module: string;
  readonly config: Readonly<Config>;
}

/** A RunnerMetrics call, replayed on the main thread's registry. */
export type MetricCall =
  | ['processed' | 'deadLettered', string, number]
  | ['batchSeconds' | 'sinceReceived' | 'ownedPartitions', string, number]
  | ['retried' | 'rebalanced', string];

/** A main-thread `produce` written by the pipeline thread's log connection (`logWithAppendsBy`). */
export interface ProduceRequest {
  readonly id: number;
  readonly records: readonly ProduceRecord[];
}

export type ProduceReply = { readonly id: number; readonly positions: RecordPosition[] } | { readonly id: number; readonly error: string };

export type ToWorker = { readonly appended: string[] } | { readonly stop: true } | { readonly produce: ProduceRequest };

export type FromWorker =
  | { readonly ready: true }
  | { readonly stopped: true }
  | { readonly metrics: MetricCall[] }
  | { readonly push: MailboxEvent }
  | { readonly applied: MailboxEvent }
  | { readonly produced: ProduceReply }
  | { readonly failed: string };
