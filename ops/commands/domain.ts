/** `sluice domain add NAME | list`. */
import { openStore } from '../app.ts';
import { configFrom, parse, UsageError, type Command } from './common.ts';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

export const domainCommand: Command = {
  name: 'domain',
  usage: 'domain add NAME | domain list',
  summary: 'manage the local mail domains',
  async run(args) {
    const { values, positionals } = parse(args, {});
    const [action, name] = positionals;
    const store = await openStore(configFrom(values));
    try {
      if (action === 'add' && name) {
        if (!DOMAIN.test(name)) throw new UsageError(`not a domain name: ${name}`);
        await store.addDomain(name.toLowerCase());
        process.stdout.write(`domain ${name.toLowerCase()} added\n`);
        return 0;
      }
      if (action === 'list') {
        for (const d of await store.domains()) process.stdout.write(`${d}\n`);
        return 0;
      }
      throw new UsageError('expected `add NAME` or `list`');
    } finally {
      await store.close();
    }
  },
};
