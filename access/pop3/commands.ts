/** The POP3 command table: keyword → `{ states, handle }`, dispatched by the session. */
import type { Pop3Command } from './context.ts';
import { authorizationCommands } from './authorization-commands.ts';
import { transactionCommands } from './transaction-commands.ts';
import { pop3Errors } from './responses.ts';

// RFC 2449 §5 CAPA: valid in both states.
const capa: Pop3Command = {
  states: ['authorization', 'transaction'],
  async handle(ctx, args) {
    if (args.trim()) throw pop3Errors.syntax('CAPA takes no argument');
    await ctx.sendLines('+OK Capability list follows', ctx.capabilities());
  },
};

// RFC 1939 §4 QUIT in AUTHORIZATION: just goodbye. RFC 1939 §6 QUIT in TRANSACTION: the UPDATE
// state removes the deleted messages, and "+OK" is sent only once that is done.
const quit: Pop3Command = {
  states: ['authorization', 'transaction'],
  async handle(ctx) {
    if (ctx.state === 'transaction') {
      try {
        const { expunged } = await ctx.commit();
        await ctx.send(`+OK Sluice POP3 server signing off (${expunged} messages deleted)`);
      } finally {
        // RFC 1939 §6: the connection closes whether or not the removal succeeded.
        ctx.close();
      }
      return;
    }
    await ctx.send('+OK Sluice POP3 server signing off');
    ctx.close();
  },
};

export const POP3_COMMANDS: Readonly<Record<string, Pop3Command>> = {
  ...authorizationCommands,
  ...transactionCommands,
  CAPA: capa,
  QUIT: quit,
};
