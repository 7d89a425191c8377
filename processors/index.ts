/**
 * The registry of every processor a topology may name. Explicit: a processor exists for
 * topologies only once it is listed here (no registration by import side effect).
 */
import type { ProcessorDefinition } from './processor.ts';
import { parseProcessor } from './parse.ts';
import { splitAttachmentsProcessor } from './split-attachments.ts';
import { storeProcessor } from './store.ts';
import { indexProcessor } from './index-stage.ts';
import { pushProcessor } from './push.ts';
import { spamProcessor } from './spam.ts';
import { virusProcessor } from './virus.ts';
import { spamLearnProcessor } from './spam-learn.ts';
import { prepareProcessor } from './prepare.ts';
import { outboundScanProcessor } from './outbound-scan.ts';
import { deliverProcessor } from './deliver.ts';
import { releaseProcessor } from './release.ts';
import { skipCancelled } from './skip-cancelled.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each definition has its own config and record types
type AnyDefinition = ProcessorDefinition<any, any, any>;

export const PROCESSORS: ReadonlyMap<string, AnyDefinition> = new Map(
  ([parseProcessor, splitAttachmentsProcessor, storeProcessor, indexProcessor, pushProcessor, spamProcessor, virusProcessor, spamLearnProcessor, prepareProcessor, outboundScanProcessor, deliverProcessor, releaseProcessor] as AnyDefinition[])
    // The outgoing queue's stages skip what an operator dropped or retried (`sluice queue`).
    .map((p) => (p.spec.input === 'MailOutbound' ? skipCancelled(p) : p))
    .map((p) => [p.name, p] as const),
);
