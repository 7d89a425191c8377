/** `sluice user add ADDRESS --password-stdin | set ADDRESS [--pop3-keep yes|no] [--password-stdin] | list`. */
import { openStore } from '../app.ts';
import { hashPassword } from '../password.ts';
import type { UserUpdate } from '../../connectors/store/store.ts';
import { configFrom, parse, readStdin, UsageError, type Command } from './common.ts';

const USAGE = 'user add ADDRESS --password-stdin | user set ADDRESS [--pop3-keep yes|no] [--password-stdin] | user list';

export const userCommand: Command = {
  name: 'user',
  usage: USAGE,
  summary: 'manage users (passwords hashed with scrypt; POP3 keep-mail setting)',
  async run(args) {
    const { values, positionals } = parse(args, { 'password-stdin': { type: 'boolean' }, 'pop3-keep': { type: 'string' } });
    const [action, address] = positionals;
    const config = configFrom(values);
    if (action === 'add' && address) {
      if (!/^[^@\s]+@[^@\s]+$/.test(address)) throw new UsageError(`not an address: ${address}`);
      if (!values['password-stdin']) throw new UsageError('give the password on standard input with --password-stdin');
      const hash = await hashPassword(await passwordFromStdin());
      const store = await openStore(config);
      try {
        const user = await store.addUser(address, hash);
        process.stdout.write(`user ${user.address} added\n`);
      } finally {
        await store.close();
      }
      return 0;
    }
    if (action === 'set' && address) {
      const update: { -readonly [K in keyof UserUpdate]: UserUpdate[K] } = {};
      const keep = values['pop3-keep'];
      if (keep !== undefined) {
        if (keep !== 'yes' && keep !== 'no') throw new UsageError(`--pop3-keep takes yes or no, not ${JSON.stringify(keep)}`);
        update.pop3KeepMail = keep === 'yes';
      }
      if (values['password-stdin']) update.passwordHash = await hashPassword(await passwordFromStdin());
      if (Object.keys(update).length === 0) throw new UsageError('nothing to set: give --pop3-keep yes|no and/or --password-stdin');
      const store = await openStore(config);
      try {
        const user = await store.user(address);
        if (!user) throw new Error(`user ${address} does not exist`);
        const updated = await store.updateUser(user.id, update);
        process.stdout.write(`user ${updated.address} updated: ${describe(updated.pop3KeepMail)}\n`);
      } finally {
        await store.close();
      }
      return 0;
    }
    if (action === 'list') {
      const store = await openStore(config);
      try {
        for (const u of await store.users()) process.stdout.write(`${u.address}${u.pop3KeepMail ? '  (pop3: keep mail)' : ''}\n`);
      } finally {
        await store.close();
      }
      return 0;
    }
    throw new UsageError(`expected ${USAGE}`);
  },
};

async function passwordFromStdin(): Promise<string> {
  const password = (await readStdin()).replace(/\r?\n$/, '');
  if (!password) throw new UsageError('empty password on standard input');
  return password;
}

function describe(pop3KeepMail: boolean): string {
  return pop3KeepMail ? 'POP3 keeps mail on the server' : 'POP3 deletes what the client deleted';
}
