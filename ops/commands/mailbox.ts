/**
 * `sluice mailbox export ADDRESS --format mbox|maildir --out PATH` and
 * `sluice mailbox import ADDRESS PATH`. Import appends to `mail.received`, so the pipeline
 * stores (and de-duplicates) the messages: a running server does it; with none running on the
 * data folder, this command runs the pipeline itself until everything is stored.
 */
import { openApp } from '../app.ts';
import { createLogger } from '../logger.ts';
import { exportMailbox } from '../mailbox/export.ts';
import { importMailbox } from '../mailbox/import.ts';
import { createProgress, formatExportSummary, formatImportSummary, printSummary } from '../mailbox/progress.ts';
import { drainPipeline } from '../drain.ts';
import { runningServerPid } from '../server-lock.ts';
import { schemaType } from '../../schemas/registry.ts';
import type { MailReceived } from '../../schemas/types.ts';
import { configFrom, parse, UsageError, type Command } from './common.ts';

export const mailboxCommand: Command = {
  name: 'mailbox',
  usage: 'mailbox export ADDRESS --format mbox|maildir --out PATH | mailbox import ADDRESS PATH',
  summary: 'export a user\'s mail (backup, leaving) or import it (moving in)',
  async run(args) {
    const { values, positionals } = parse(args, { format: { type: 'string' }, out: { type: 'string' } });
    const [action, address, path] = positionals;
    if (!address || (action !== 'export' && action !== 'import')) throw new UsageError('expected export or import, and an address');
    const config = configFrom(values);
    const logger = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level });
    const app = await openApp(config, logger);
    try {
      if (action === 'export') {
        const format = values.format ?? 'mbox';
        if (format !== 'mbox' && format !== 'maildir') throw new UsageError(`unknown format ${format} (mbox or maildir)`);
        if (!values.out) throw new UsageError('--out PATH is required');
        const started = Date.now();
        const progress = createProgress({ label: `export ${address}` });
        const result = await exportMailbox({ store: app.store, blobs: app.blobs }, address, { format, out: values.out, onProgress: (d, t) => progress.update(d, t) });
        progress.stop();
        printSummary(formatExportSummary(address, result, values.out, Date.now() - started));
        return 0;
      }
      if (!path) throw new UsageError('expected the path of an mbox file or a Maildir');
      const received = schemaType('MailReceived');
      await app.log.ensureTopics(app.topologies.flatMap((t) => [...t.topics.values()].map((topic) => ({ name: topic.name, partitions: topic.partitions, retentionMs: topic.retentionMs }))));
      const started = Date.now();
      const progress = createProgress({ label: `import ${address}` });
      const result = await importMailbox(
        { log: app.log, blobs: app.blobs, store: app.store, logger, encode: (v: MailReceived) => received.toBuffer(v) },
        address,
        path,
        { onProgress: (d, t) => progress.update(d, t) },
      );
      progress.stop();
      printSummary(formatImportSummary(address, result, Date.now() - started));
      if (runningServerPid(config.dataDir) === null) {
        process.stdout.write('no server is running on this data folder: storing them now…\n');
        await drainPipeline(app);
        process.stdout.write('stored.\n');
      } else {
        process.stdout.write('the running server is storing them.\n');
      }
      return result.failed > 0 ? 1 : 0;
    } finally {
      await app.close();
    }
  },
};
