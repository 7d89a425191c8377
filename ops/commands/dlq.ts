/** `sluice dlq list [TOPIC] | dlq replay TOPIC|STAGE|--all`. */
import { mkdirSync } from 'node:fs';
import { openLog } from '../open-engines.ts';
import { loadTopologies } from '../../topology/loader.ts';
import { PROCESSORS } from '../../processors/index.ts';
import { deadLetterTopics, listDeadLetters, replayDeadLetters } from '../dlq.ts';
import { configFrom, parse, UsageError, type Command } from './common.ts';

export const dlqCommand: Command = {
  name: 'dlq',
  usage: 'dlq list [TOPIC] | dlq replay TOPIC|STAGE|--all',
  summary: 'list or replay records a stage dead-lettered',
  async run(args) {
    const { values, positionals } = parse(args, { all: { type: 'boolean' } });
    const config = configFrom(values);
    const topologies = loadTopologies(config.topology.dir, PROCESSORS);
    const topics = deadLetterTopics(topologies);
    const [action, which] = positionals;
    const pick = (name: string | undefined): string[] => {
      if (!name) return topics;
      const topic = topics.find((t) => t === name || t === `${name}.dlq`);
      if (!topic) throw new UsageError(`no dead-letter topic '${name}' (known: ${topics.join(', ')})`);
      return [topic];
    };
    if (action !== 'list' && action !== 'replay') throw new UsageError('expected list or replay');
    if (action === 'replay' && !which && !values.all) throw new UsageError('name a dead-letter topic or stage, or --all');
    mkdirSync(config.dataDir, { recursive: true });
    const log = await openLog(config, topologies);
    try {
      const specs = topologies.flatMap((t) => [...t.topics.values()]).filter((t) => pick(which).includes(t.name));
      await log.ensureTopics(specs.map((t) => ({ name: t.name, partitions: t.partitions, retentionMs: t.retentionMs })));
      if (action === 'list') {
        const entries = await listDeadLetters(log, pick(which));
        for (const e of entries) {
          const firstLine = e.letter.error.split('\n')[0];
          process.stdout.write(
            `${e.dlqTopic}/${e.partition}/${e.offset}\t${e.replayed ? 'replayed' : 'pending'}\tstage=${e.letter.stage}\tfrom=${e.letter.topic}/${e.letter.partition}/${e.letter.offset}\tkey=${e.letter.key}\t${firstLine}\n`,
          );
        }
        process.stdout.write(`${entries.length} dead-lettered record(s), ${entries.filter((e) => !e.replayed).length} not replayed\n`);
        return 0;
      }
      let total = 0;
      for (const topic of pick(which)) {
        const n = await replayDeadLetters(log, topic);
        process.stdout.write(`${topic}: replayed ${n} record(s)\n`);
        total += n;
      }
      process.stdout.write(`replayed ${total} record(s) in all\n`);
      return 0;
    } finally {
      await log.close();
    }
  },
};
