/**
 * Makes a stage of the outgoing queue (any processor whose input is MailOutbound: prepare,
 * outbound-scan, deliver, release) skip the records an operator dropped or retried as a copy
 * (`sluice queue drop | retry-now`): the record's position is looked up in the queue's control
 * marks (connectors/queue-control.ts) just before the stage would act on it, and a marked record
 * is filtered (`[]`: its offset is committed, nothing is sent). Without `resources.queue` the
 * stage runs as it is. The wrapped processor keeps its name, spec and batch processing.
 */
import type { InputRecord, OutputRecord, Processor, ProcessorDefinition } from './processor.ts';

export function skipCancelled<C, I, O>(inner: ProcessorDefinition<C, I, O>): ProcessorDefinition<C, I, O> {
  return {
    name: inner.name,
    spec: inner.spec,
    create(config, resources) {
      const processor = inner.create(config, resources);
      const queue = resources.queue;
      if (!queue) return processor;
      const skipped = async (record: InputRecord<I>): Promise<boolean> => {
        const mark = await queue.cancelled(record);
        if (mark) resources.logger.info({ stage: inner.name, topic: record.topic, partition: record.partition, offset: record.offset, outboundId: mark.outboundId, action: mark.action }, 'queue: skipped a record the operator cancelled');
        return mark !== undefined;
      };
      const wrapped: Processor<I, O> = {
        async process(record) {
          return (await skipped(record)) ? [] : processor.process(record);
        },
        close: processor.close?.bind(processor),
      };
      if (processor.processBatch) {
        const batch = processor.processBatch.bind(processor);
        wrapped.processBatch = async (records) => {
          const skip = await Promise.all(records.map(skipped));
          const kept = records.filter((_, i) => !skip[i]);
          const outputs = kept.length ? await batch(kept) : [];
          let k = 0;
          return records.map((_, i): OutputRecord<O>[] => (skip[i] ? [] : outputs[k++]));
        };
      }
      return wrapped;
    },
  };
}
