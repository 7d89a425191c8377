/**
 * Test support for the selected-state handlers (used only by `*.test.ts`): the real pipeline
 * (`startAccessTestEnv`), the session's real `SelectedMailbox`, commands parsed by the real
 * parser, and — as the session does — the view's update (EXPUNGE, EXISTS, FETCH of others'
 * changes) written after the handler and before the tagged reply.
 */
import { pino } from 'pino';
import { startAccessTestEnv, type AccessTestEnv } from '../../test-kit.ts';
import type { CommandResult, EnabledExtensions, ImapContext } from '../context.ts';
import { parseCommand } from '../parse-command.ts';
import { runSelectedCommand, type SelectedCommand } from '../selected-commands.ts';
import { recentUids } from '../recent.ts';
import { SelectedMailbox } from '../selected-view.ts';

export const ALICE = 'alice@example.test';

export interface Harness {
  readonly env: AccessTestEnv;
  view: SelectedMailbox;
  enabled: EnabledExtensions;
  /** Selects (or examines) a mailbox of alice's, as SELECT would. */
  select(name?: string, readOnly?: boolean): Promise<void>;
  /** Runs one command line (no CRLF): `out` is what the handler wrote, `updates` the view's update after it. */
  run(line: string): Promise<{ result: CommandResult; out: string; raw: Buffer; updates: string; writes: number }>;
  close(): Promise<void>;
}

/** `n` simple messages; message i has subject `Message i` unless `make` says otherwise. */
export function sampleMessage(i: number, extra = ''): string {
  return `From: Sender ${i} <sender${i}@example.org>\nTo: alice@example.test\nSubject: Message ${i}\nMessage-ID: <m${i}@example.org>\nDate: Mon, 2 Nov 2026 10:${String(i % 60).padStart(2, '0')}:00 +0000\n${extra}\nBody of message ${i}.\n`;
}

export async function startHarness(): Promise<Harness> {
  const env = await startAccessTestEnv();
  const user = await env.addUser(ALICE, 'secret');
  const harness: Harness = {
    env,
    view: null as unknown as SelectedMailbox,
    enabled: { condstore: false, qresync: false, imap4rev2: false, utf8: false },
    async select(name = 'INBOX', readOnly = false) {
      const mailbox = await env.store.mailbox(user.id, name);
      if (!mailbox) throw new Error(`no mailbox ${name}`);
      harness.view = new SelectedMailbox(mailbox, readOnly, await env.store.summaries(mailbox.id), recentUids(env.store));
    },
    async run(line) {
      const chunks: Buffer[] = [];
      let writes = 0;
      const command = parseCommand(Buffer.from(line)) as SelectedCommand;
      const context: ImapContext = {
        user,
        service: env.service,
        selected: harness.view,
        enabled: harness.enabled,
        logger: pino({ level: 'silent' }),
        write: (...parts) => {
          writes++;
          for (const p of parts) chunks.push(Buffer.isBuffer(p) ? p : Buffer.from(p, 'utf8'));
        },
        decodeMailboxName: (name) => name,
        encodeMailboxName: (name) => name,
      };
      const result = await runSelectedCommand(context, command);
      // As the session does after every command (RFC 9051 §7.5.1: no EXPUNGE during FETCH, STORE, SEARCH …).
      const uid = 'uid' in command ? command.uid : true;
      const allowExpunge = ['FETCH', 'STORE', 'SEARCH', 'SORT', 'THREAD', 'COPY'].includes(command.name) ? uid : true;
      const updates = (await harness.view.update(env.store, harness.enabled, allowExpunge)).join('');
      const raw = Buffer.concat(chunks);
      return { result, out: raw.toString('utf8'), raw, updates, writes };
    },
    close: () => env.close(),
  };
  return harness;
}
