/**
 * `sluice quarantine list [ADDRESS] | release MESSAGE-KEY | delete MESSAGE-KEY`: infected mail
 * the virus stage kept. A release adds an `X-Sluice-Quarantine:` field saying so and appends
 * the record to the topic after the virus stage (`mail.scanned`), so it is stored like any other
 * message (idempotent by message key: releasing twice stores it once). A delete forgets it.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { openLog } from '../open-engines.ts';
import { SqliteQuarantine } from '../../connectors/scan/sqlite-quarantine.ts';
import { loadTopologies } from '../../topology/loader.ts';
import { PROCESSORS } from '../../processors/index.ts';
import { schemaType } from '../../schemas/registry.ts';
import { addHeaders } from '../../processors/mime/add-headers.ts';
import { openBlobStore } from '../app.ts';
import { configFrom, parse, UsageError, type Command } from './common.ts';

export const quarantineCommand: Command = {
  name: 'quarantine',
  usage: 'quarantine list [ADDRESS] | release KEY | delete KEY',
  summary: 'infected mail kept by the virus stage: list, release to the mailbox, delete',
  async run(args) {
    const { values, positionals } = parse(args, {});
    const config = configFrom(values);
    const [action, which] = positionals;
    if (action !== 'list' && action !== 'release' && action !== 'delete') throw new UsageError('expected list, release or delete');
    if (action !== 'list' && !which) throw new UsageError(`${action} needs a message key (see quarantine list)`);
    mkdirSync(config.dataDir, { recursive: true });
    const quarantine = new SqliteQuarantine({ path: join(config.dataDir, 'quarantine.db') });
    try {
      if (action === 'list') {
        const entries = await quarantine.list(which);
        for (const e of entries) {
          const from = e.record.from.map((a) => a.address).join(',') || e.record.received.mailFrom;
          const state = e.releasedAt === null ? 'held' : `released ${new Date(e.releasedAt).toISOString()}`;
          process.stdout.write(`${e.messageKey}\t${e.userId}\t${new Date(e.quarantinedAt).toISOString()}\t${e.viruses.join(',')}\t${state}\tfrom=${from}\tsubject=${JSON.stringify(e.record.subject)}\n`);
        }
        process.stdout.write(`${entries.length} quarantined message(s)\n`);
        return 0;
      }
      const entry = await quarantine.get(which);
      if (!entry) throw new Error(`no quarantined message '${which}'`);
      if (action === 'delete') {
        await quarantine.delete(which);
        process.stdout.write(`deleted ${which}\n`);
        return 0;
      }
      const topologies = loadTopologies(config.topology.dir, PROCESSORS);
      const topic = topologies.flatMap((t) => [...t.topics.values()]).find((t) => t.name === entry.releaseTopic);
      if (!topic || topic.schema !== 'ParsedMail') throw new Error(`release topic ${entry.releaseTopic} is not a ParsedMail topic of the topologies`);
      const blobs = await openBlobStore(config);
      const log = await openLog(config, topologies);
      try {
        const now = Date.now();
        const record = addHeaders(entry.record, [`X-Sluice-Quarantine: released ${new Date(now).toISOString()}; found ${entry.viruses.join(', ')}`]);
        await log.ensureTopics([{ name: topic.name, partitions: topic.partitions, retentionMs: topic.retentionMs }]);
        await log.produce([{ topic: topic.name, key: entry.userId, value: schemaType('ParsedMail').toBuffer(record), headers: { 'released-from-quarantine': entry.messageKey } }]);
        await quarantine.markReleased(which, now);
      } finally {
        await log.close();
        await blobs.close();
      }
      process.stdout.write(`released ${which} to ${entry.userId}\n`);
      return 0;
    } finally {
      await quarantine.close();
    }
  },
};
