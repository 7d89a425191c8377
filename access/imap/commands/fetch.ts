/**
 * FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9, §7.5.2), with CHANGEDSINCE and VANISHED
 * (RFC 7162 §3.1.4, §3.2.6). Flags, dates, sizes and MODSEQs come from the store's lean rows
 * (`messageFacts`), read in batches; full rows and message bytes are read only for the
 * messages whose attributes need them (structure values are cached per message), a few ahead.
 * Responses stream batch by batch, text lines joined into ~64 KiB writes.
 */
import type { ImapCommand } from '../command.ts';
import type { ImapContext, SelectedCommandHandler } from '../context.ts';
import type { MessageFacts, StoredMessage } from '../../../connectors/store/store.ts';
import { formatSequenceSet } from '../wire/encode.ts';
import { alwaysNeedsBytes, fetchLine, needsBytes, setsSeen, structureValues } from '../fetch/items.ts';
import { forEachOrdered } from '../fetch/ordered-reads.ts';
import { uidSetHas } from '../fetch/uid-set.ts';

type FetchCommand = Extract<ImapCommand, { name: 'FETCH' }>;

/** UIDs per store query: bounds memory and lets the first responses go out early. */
const BATCH = 1024;
/** Text responses are joined up to about this many characters per write. */
const OUTPUT_TEXT = 64 * 1024;
/** Messages whose bytes are read ahead of the one being written. */
const READ_AHEAD = 8;

export const handleFetch: SelectedCommandHandler<FetchCommand> = async (ctx, cmd) => {
  const view = ctx.selected;
  let uids: number[];
  try {
    uids = view.resolve(cmd.set, cmd.uid);
  } catch (err) {
    if (err instanceof RangeError) return { status: 'BAD', text: 'Invalid message sequence number' }; // RFC 9051 §6.4.5
    throw err;
  }
  // RFC 7162 §3.1: CHANGEDSINCE and the MODSEQ item are CONDSTORE enabling commands.
  if (cmd.changedSince !== null || cmd.attributes.some((a) => a.kind === 'MODSEQ')) ctx.enabled.condstore = true;
  if (cmd.vanished) {
    // RFC 7162 §3.2.6: VANISHED only in UID FETCH with CHANGEDSINCE, once QRESYNC is enabled.
    if (!cmd.uid || cmd.changedSince === null || !ctx.enabled.qresync) {
      return { status: 'BAD', text: 'VANISHED needs UID FETCH with CHANGEDSINCE and QRESYNC enabled' };
    }
    await writeVanished(ctx, cmd, cmd.changedSince);
  }

  const markSeen = setsSeen(cmd.attributes) && !view.readOnly;
  const showsFlags = markSeen || cmd.attributes.some((a) => a.kind === 'FLAGS');
  const out = new Output(ctx);
  const alwaysBytes = alwaysNeedsBytes(cmd.attributes);
  let unknownCte = false;
  for (let i = 0; i < uids.length; i += BATCH) {
    // The lean rows first: a FETCH that needs no bytes (FLAGS, ENVELOPE cached …) reads nothing else.
    // (Attributes that always need the bytes, BODY[] …, read the full rows at once instead.)
    const batch = uids.slice(i, i + BATCH);
    const fullRows = alwaysBytes ? await ctx.service.store.messagesByUid(view.mailbox.id, batch) : null;
    let rows: MessageFacts[] = fullRows ?? (await ctx.service.store.messageFacts(view.mailbox.id, batch));
    if (cmd.changedSince !== null) rows = rows.filter((m) => m.modseq > (cmd.changedSince as number));
    const seen = markSeen ? await setSeen(ctx, rows) : new Map<number, { flags: string[]; modseq: number }>();
    if (seen.size > 0) rows = rows.map((m) => ({ ...m, ...seen.get(m.uid) }));
    const cached = rows.map((m) => structureValues(m.messageKey));
    const needing = rows.filter((_, j) => needsBytes(cmd.attributes, cached[j], ctx.enabled.utf8)).map((m) => m.uid);
    // Full rows (where the bytes are) only for the messages whose bytes are read.
    const full = new Map<number, StoredMessage>(fullRows?.map((m) => [m.uid, m]));
    const fullRow = async (uid: number): Promise<StoredMessage | undefined> => {
      if (!full.has(uid)) for (const m of await ctx.service.store.messagesByUid(view.mailbox.id, [uid])) full.set(m.uid, m);
      return full.get(uid);
    };
    if (needing.length > 0 && !fullRows) for (const m of await ctx.service.store.messagesByUid(view.mailbox.id, needing)) full.set(m.uid, m);

    const respond = async (message: MessageFacts, j: number, raw: Buffer | null): Promise<void> => {
      const seq = view.seqOf(message.uid);
      if (seq === undefined) return;
      const options = {
        seq,
        message,
        raw,
        cached: cached[j],
        attributes: cmd.attributes,
        addUid: cmd.uid, // RFC 9051 §6.4.9: UID FETCH always returns UID
        addFlags: seen.has(message.uid), // RFC 9051 §6.4.5: \Seen set implicitly: FLAGS SHOULD follow
        addModseq: ctx.enabled.condstore, // RFC 7162 §3.1.4
        utf8: ctx.enabled.utf8,
        recent: !ctx.enabled.imap4rev2 && view.recent.has(message.uid), // RFC 3501 §2.3.2
      };
      let line = fetchLine(options);
      if (!line.ok && line.code === 'NEED-BYTES') {
        const row = await fullRow(message.uid);
        if (!row) return; // expunged meanwhile: nothing to say about it
        line = fetchLine({ ...options, raw: await ctx.service.messageBytes(row) });
      }
      if (!line.ok) {
        unknownCte = true;
        return;
      }
      // RFC 9051 §7.3.5: a keyword this session has not announced goes into FLAGS first.
      if (showsFlags) {
        const announce = view.announceFlags(message.flags);
        for (const l of announce) out.add(l);
      }
      for (const chunk of line.chunks) out.add(chunk);
      if (seen.has(message.uid)) view.noteReported(message.uid, message.modseq);
    };

    if (needing.length === 0) {
      for (let j = 0; j < rows.length; j++) await respond(rows[j], j, null);
    } else {
      const indexes = rows.map((_, j) => j);
      await forEachOrdered(
        indexes,
        READ_AHEAD,
        async (j): Promise<Buffer | null> => {
          const row = full.get(rows[j].uid);
          return row && needsBytes(cmd.attributes, cached[j], ctx.enabled.utf8) ? ctx.service.messageBytes(row) : null;
        },
        (j, raw) => respond(rows[j], j, raw),
      );
    }
    out.flush();
  }
  out.flush();
  if (unknownCte) return { status: 'NO', code: 'UNKNOWN-CTE', text: 'Cannot decode the content transfer encoding' }; // RFC 3516 §5
  return { status: 'OK', text: 'FETCH completed' };
};

/**
 * Joins response lines that are text into one string, handed to the session at ~64 KiB: a FETCH
 * of 10,000 envelopes becomes a few dozen writes instead of 10,000 Buffers.
 */
class Output {
  private text = '';

  constructor(private readonly ctx: ImapContext) {}

  add(chunk: string | Buffer): void {
    if (typeof chunk === 'string') {
      this.text += chunk;
      if (this.text.length >= OUTPUT_TEXT) this.flush();
      return;
    }
    this.flush();
    this.ctx.write(chunk);
  }

  flush(): void {
    if (this.text === '') return;
    this.ctx.write(this.text);
    this.text = '';
  }
}

/** RFC 7162 §3.2.6: `* VANISHED (EARLIER)` with the UIDs of the set expunged since the MODSEQ. */
async function writeVanished(ctx: ImapContext, cmd: FetchCommand, since: number): Promise<void> {
  const view = ctx.selected;
  const changes = await ctx.service.store.changes(view.mailbox.id, since);
  const maxUid = Math.max(view.uids[view.uids.length - 1] ?? 0, view.mailbox.uidNext - 1);
  const gone = changes.expunged.filter((uid) => uidSetHas(cmd.set, uid, maxUid, view.savedSearch));
  if (gone.length > 0) ctx.write(`* VANISHED (EARLIER) ${formatSequenceSet(gone)}\r\n`);
}

/** Adds \Seen to the messages of `rows` without it, through the log: new flags and MODSEQ by UID. */
async function setSeen(ctx: ImapContext, rows: readonly MessageFacts[]): Promise<Map<number, { flags: string[]; modseq: number }>> {
  const unseen = rows.filter((m) => !m.flags.includes('\\Seen')).map((m) => m.uid);
  if (unseen.length === 0) return new Map();
  const event = await ctx.service.change(ctx.user.id, {
    setFlags: { mailboxId: ctx.selected.mailbox.id, uids: unseen, mode: 'add', flags: ['\\Seen'], unchangedSince: null },
  });
  return new Map((event.flagsChanged?.changed ?? []).map((c) => [c.uid, { flags: c.flags, modseq: c.modseq }]));
}
