/** The TRANSACTION state's commands (RFC 1939 §5, §7): STAT, LIST, RETR, DELE, NOOP, RSET, TOP, UIDL. */
import type { Pop3Command, Pop3Context } from './context.ts';
import type { Maildrop } from './maildrop.ts';
import { pop3Body } from './message-lines.ts';
import { pop3Errors } from './responses.ts';

function maildropOf(ctx: Pop3Context): Maildrop {
  if (!ctx.maildrop) throw pop3Errors.wrongState();
  return ctx.maildrop;
}

function noArguments(args: string, command: string): void {
  if (args.trim()) throw pop3Errors.syntax(`${command} takes no argument`);
}

/** The single message-number argument of RETR, DELE, LIST msg, UIDL msg. */
function oneArgument(args: string, command: string): string {
  const words = args.trim().split(/ +/);
  if (words.length !== 1 || !words[0]) throw pop3Errors.syntax(`${command} needs one message number`);
  return words[0];
}

// RFC 1939 §5 STAT: "+OK nn mm", count and octets of the messages not marked deleted.
const stat: Pop3Command = {
  states: ['transaction'],
  async handle(ctx, args) {
    noArguments(args, 'STAT');
    const { count, size } = maildropOf(ctx).stat();
    await ctx.send(`+OK ${count} ${size}`);
  },
};

// RFC 1939 §5 LIST [msg]: a scan listing "msg octets", one or all.
const list: Pop3Command = {
  states: ['transaction'],
  async handle(ctx, args) {
    const maildrop = maildropOf(ctx);
    if (args.trim()) {
      const entry = maildrop.entry(oneArgument(args, 'LIST'));
      await ctx.send(`+OK ${entry.number} ${entry.message.size}`);
      return;
    }
    const { count, size } = maildrop.stat();
    await ctx.sendLines(`+OK ${count} messages (${size} octets)`, maildrop.visible().map((e) => `${e.number} ${e.message.size}`));
  },
};

// RFC 1939 §7 UIDL [msg]: "msg unique-id", one or all.
const uidl: Pop3Command = {
  states: ['transaction'],
  async handle(ctx, args) {
    const maildrop = maildropOf(ctx);
    if (args.trim()) {
      const entry = maildrop.entry(oneArgument(args, 'UIDL'));
      await ctx.send(`+OK ${entry.number} ${entry.uniqueId}`);
      return;
    }
    await ctx.sendLines('+OK', maildrop.visible().map((e) => `${e.number} ${e.uniqueId}`));
  },
};

// RFC 1939 §5 RETR msg: the whole message, byte-stuffed; the message becomes \Seen at QUIT.
const retr: Pop3Command = {
  states: ['transaction'],
  async handle(ctx, args) {
    const maildrop = maildropOf(ctx);
    const entry = maildrop.entry(oneArgument(args, 'RETR'));
    const body = pop3Body(await ctx.messageBytes(entry));
    if (body.size !== entry.message.size) {
      // LIST announced the stored size; a message not stored with CRLF line ends differs (RFC 1939 §11).
      ctx.logger.warn({ uid: entry.message.uid, stored: entry.message.size, sent: body.size }, 'pop3: message size differs from the stored size');
    }
    maildrop.markRetrieved(entry);
    await ctx.sendBody(`+OK ${entry.message.size} octets`, body.data);
  },
};

// RFC 1939 §7 TOP msg n: the header, the blank line and n lines of the body (n ≥ 0).
const top: Pop3Command = {
  states: ['transaction'],
  async handle(ctx, args) {
    const maildrop = maildropOf(ctx);
    const words = args.trim().split(/ +/);
    if (words.length !== 2 || !/^[0-9]{1,9}$/.test(words[1])) throw pop3Errors.syntax('TOP msg n');
    const entry = maildrop.entry(words[0]);
    const body = pop3Body(await ctx.messageBytes(entry), Number(words[1]));
    await ctx.sendBody('+OK', body.data);
  },
};

// RFC 1939 §5 DELE msg: marks the message; removed in the UPDATE state.
const dele: Pop3Command = {
  states: ['transaction'],
  async handle(ctx, args) {
    const maildrop = maildropOf(ctx);
    const entry = maildrop.entry(oneArgument(args, 'DELE'));
    maildrop.markDeleted(entry);
    await ctx.send(`+OK Message ${entry.number} deleted`);
  },
};

// RFC 1939 §5 NOOP.
const noop: Pop3Command = {
  states: ['transaction'],
  async handle(ctx, args) {
    noArguments(args, 'NOOP');
    await ctx.send('+OK');
  },
};

// RFC 1939 §5 RSET: unmarks every message marked deleted.
const rset: Pop3Command = {
  states: ['transaction'],
  async handle(ctx, args) {
    noArguments(args, 'RSET');
    const maildrop = maildropOf(ctx);
    maildrop.reset();
    const { count, size } = maildrop.stat();
    await ctx.send(`+OK Maildrop has ${count} messages (${size} octets)`);
  },
};

export const transactionCommands: Readonly<Record<string, Pop3Command>> = {
  STAT: stat, LIST: list, UIDL: uidl, RETR: retr, TOP: top, DELE: dele, NOOP: noop, RSET: rset,
};
