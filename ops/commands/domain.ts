/**
 * `sluice domain add NAME | list | dkim NAME`. `add` also makes the domain's DKIM key (RFC 6376;
 * `<dataDir>/dkim/`) and prints the TXT record the operator publishes; run again on a domain
 * that has no key yet (added before keys existed), it makes one. `dkim` prints the record again
 * (and makes the key when there is none).
 */
import { openStore } from '../app.ts';
import { dkimDir } from '../outbound.ts';
import { FsDkimKeys } from '../../connectors/dkim/fs.ts';
import { dkimRecordName, dkimRecordText, dkimZoneLine, type DkimKey } from '../../connectors/dkim/keys.ts';
import { configFrom, parse, UsageError, type Command } from './common.ts';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

function printRecord(key: DkimKey, created: boolean): void {
  process.stdout.write(
    `${created ? 'made a DKIM key' : 'DKIM key'} for ${key.domain} (selector ${key.selector}); publish this TXT record:\n` +
      `  name:  ${dkimRecordName(key)}\n  value: ${dkimRecordText(key)}\n  zone:  ${dkimZoneLine(key)}\n`,
  );
}

export const domainCommand: Command = {
  name: 'domain',
  usage: 'domain add NAME | domain list | domain dkim NAME',
  summary: 'manage the local mail domains and their DKIM keys',
  async run(args) {
    const { values, positionals } = parse(args, {});
    const [action, name] = positionals;
    const config = configFrom(values);
    const store = await openStore(config);
    const keys = new FsDkimKeys(dkimDir(config));
    try {
      if (action === 'add' && name) {
        if (!DOMAIN.test(name)) throw new UsageError(`not a domain name: ${name}`);
        const domain = name.toLowerCase();
        await store.addDomain(domain);
        process.stdout.write(`domain ${domain} added\n`);
        const { key, created } = await keys.ensure(domain);
        printRecord(key, created);
        return 0;
      }
      if (action === 'dkim' && name) {
        const domain = name.toLowerCase();
        if (!(await store.isLocalDomain(domain))) throw new Error(`${domain} is not a local domain (sluice domain add ${domain})`);
        const { key, created } = await keys.ensure(domain);
        printRecord(key, created);
        return 0;
      }
      if (action === 'list') {
        for (const d of await store.domains()) process.stdout.write(`${d}\n`);
        return 0;
      }
      throw new UsageError('expected `add NAME`, `list` or `dkim NAME`');
    } finally {
      await store.close();
    }
  },
};
