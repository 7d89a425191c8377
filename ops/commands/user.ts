/** `sluice user add ADDRESS --password-stdin | list`. */
import { openStore } from '../app.ts';
import { hashPassword } from '../password.ts';
import { configFrom, parse, readStdin, UsageError, type Command } from './common.ts';

export const userCommand: Command = {
  name: 'user',
  usage: 'user add ADDRESS --password-stdin | user list',
  summary: 'manage users (passwords hashed with scrypt)',
  async run(args) {
    const { values, positionals } = parse(args, { 'password-stdin': { type: 'boolean' } });
    const [action, address] = positionals;
    const config = configFrom(values);
    if (action === 'add' && address) {
      if (!/^[^@\s]+@[^@\s]+$/.test(address)) throw new UsageError(`not an address: ${address}`);
      if (!values['password-stdin']) throw new UsageError('give the password on standard input with --password-stdin');
      const password = (await readStdin()).replace(/\r?\n$/, '');
      if (!password) throw new UsageError('empty password on standard input');
      const hash = await hashPassword(password);
      const store = openStore(config);
      try {
        const user = await store.addUser(address, hash);
        process.stdout.write(`user ${user.address} added\n`);
      } finally {
        await store.close();
      }
      return 0;
    }
    if (action === 'list') {
      const store = openStore(config);
      try {
        for (const u of await store.users()) process.stdout.write(`${u.address}\n`);
      } finally {
        await store.close();
      }
      return 0;
    }
    throw new UsageError('expected `add ADDRESS --password-stdin` or `list`');
  },
};
