/** The AUTHORIZATION state's commands: USER, PASS (RFC 1939 §7), AUTH (RFC 5034), STLS (RFC 2595 §4). */
import type { Pop3Command, Pop3Context } from './context.ts';
import type { Maildrop } from './maildrop.ts';
import { pop3Errors } from './responses.ts';
import { decodePlain } from './sasl-plain.ts';

function ready(maildrop: Maildrop): string {
  const { count, size } = maildrop.stat();
  return `+OK Logged in, ${count} messages (${size} octets)`;
}

/** RFC 2595 §4 / RFC 5034 §4: no credentials in the clear unless the operator allows it. */
function requirePlaintextAllowed(ctx: Pop3Context): void {
  if (!ctx.plaintextAuthAllowed) throw pop3Errors.plaintextRefused();
}

// RFC 1939 §7 USER name: "+OK" whether or not the mailbox exists (nothing is told to guessers).
const user: Pop3Command = {
  states: ['authorization'],
  async handle(ctx, args) {
    requirePlaintextAllowed(ctx);
    const name = args.trim();
    if (!name) throw pop3Errors.syntax('USER needs a name');
    ctx.pendingUser = name;
    await ctx.send('+OK Send PASS');
  },
};

// RFC 1939 §7 PASS string: "a POP3 server may treat spaces in the argument as part of the password".
const pass: Pop3Command = {
  states: ['authorization'],
  async handle(ctx, args) {
    requirePlaintextAllowed(ctx);
    const name = ctx.pendingUser;
    // RFC 1939 §7: after a failed PASS the client starts over with USER.
    ctx.pendingUser = null;
    if (name === null) throw pop3Errors.userFirst();
    if (!args) throw pop3Errors.syntax('PASS needs a password');
    await ctx.send(ready(await ctx.login(name, args)));
  },
};

// RFC 5034 §4 AUTH mechanism [initial-response]; "AUTH" alone lists the mechanisms (as Dovecot
// and most servers do for older clients).
const auth: Pop3Command = {
  states: ['authorization'],
  async handle(ctx, args) {
    const [mechanism, initial, extra] = args.trim().split(/ +/).filter(Boolean);
    if (!mechanism) {
      await ctx.sendLines('+OK', ctx.plaintextAuthAllowed ? ['PLAIN'] : []);
      return;
    }
    if (extra !== undefined) throw pop3Errors.syntax('AUTH mechanism [initial-response]');
    if (mechanism.toUpperCase() !== 'PLAIN') throw pop3Errors.unknownMechanism();
    requirePlaintextAllowed(ctx);
    ctx.pendingUser = null;
    let response = initial;
    if (response === undefined) {
      // RFC 5034 §4: an empty challenge is sent as "+ ".
      const line = await ctx.challenge('');
      if (line === null) return;
      response = line;
    }
    // RFC 5034 §4: "*" cancels; "=" is an empty initial response.
    if (response === '*') throw pop3Errors.authCancelled();
    const credentials = response === '=' ? null : decodePlain(response);
    if (!credentials) throw pop3Errors.authFailed();
    await ctx.send(ready(await ctx.login(credentials.authcid, credentials.password)));
  },
};

// RFC 2595 §4 STLS: only in AUTHORIZATION state and only once.
const stls: Pop3Command = {
  states: ['authorization'],
  async handle(ctx, args) {
    if (args) throw pop3Errors.syntax('STLS takes no argument');
    if (ctx.secure) throw pop3Errors.alreadyTls();
    ctx.pendingUser = null;
    await ctx.send('+OK Begin TLS negotiation');
    await ctx.startTls();
  },
};

export const authorizationCommands: Readonly<Record<string, Pop3Command>> = { USER: user, PASS: pass, AUTH: auth, STLS: stls };
