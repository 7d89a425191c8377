/**
 * Maildir (https://cr.yp.to/proto/maildir.html) with Maildir++ folders: INBOX is the root,
 * every other mailbox a `.Name` directory beside `cur/ new/ tmp/` (hierarchy `.A.B` for
 * `A/B`, names in modified UTF-7). Flags live in the file name's info suffix `:2,<letters>`.
 *
 * Files on disk use LF line endings; messages come out of the reader with CRLF (the wire form
 * Sluice stores) and go into the writer in any form.
 */
import { hostname } from 'node:os';
import { mkdir, open, readdir, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toCrlf, toLf } from './line-endings.ts';
import { decodeMutf7, encodeMutf7 } from './mutf7.ts';

export interface MaildirEntry {
  /** Our mailbox name: `INBOX` for the root, `Sent` for `.Sent`, `Work/Projects` for `.Work.Projects`. */
  readonly mailbox: string;
  /** IMAP system flags from the info suffix. */
  readonly flags: readonly string[];
  readonly path: string;
}

export interface MaildirMessage extends MaildirEntry {
  /** The message, CRLF line endings. */
  readonly bytes: Buffer;
  /** The file's modification time (by convention the delivery time). */
  readonly mtime: Date;
}

/** Info letters (in the ASCII order the spec asks for) ↔ IMAP flags; P (passed) has none. */
const LETTERS: readonly [string, string][] = [
  ['D', '\\Draft'],
  ['F', '\\Flagged'],
  ['R', '\\Answered'],
  ['S', '\\Seen'],
  ['T', '\\Deleted'],
];

/** IMAP flags from a file name's `:2,` info (also `!2,` and `;2,`, used where `:` is not allowed). */
export function flagsFromName(name: string): string[] {
  const m = /[:!;]2,([^:!;/]*)$/.exec(name);
  if (!m) return [];
  return LETTERS.filter(([letter]) => m[1].includes(letter)).map(([, flag]) => flag);
}

/** The info suffix for `flags` (unknown flags and keywords are not representable and are left out). */
export function infoFromFlags(flags: readonly string[]): string {
  const wanted = new Set(flags.map((f) => f.toLowerCase()));
  return `:2,${LETTERS.filter(([, flag]) => wanted.has(flag.toLowerCase())).map(([letter]) => letter).join('')}`;
}

/** Well-known folder names of other servers and clients → our special mailboxes. */
const ALIASES: Record<string, string> = {
  inbox: 'INBOX',
  sent: 'Sent',
  'sent messages': 'Sent',
  'sent items': 'Sent',
  'sent mail': 'Sent',
  drafts: 'Drafts',
  draft: 'Drafts',
  junk: 'Junk',
  spam: 'Junk',
  'junk e-mail': 'Junk',
  'junk email': 'Junk',
  trash: 'Trash',
  'deleted messages': 'Trash',
  'deleted items': 'Trash',
  archive: 'Archive',
  archives: 'Archive',
};

/** `.Sent` → `Sent`, `.Work.Projects` → `Work/Projects`, `.Caf&AOk-` → `Café`. */
export function mailboxFromFolder(folder: string): string {
  const name = folder.replace(/^\./, '').split('.').map(decodeMutf7).join('/');
  return ALIASES[name.toLowerCase()] ?? name;
}

/** The inverse: `INBOX` → `` (the root), `Work/Projects` → `.Work.Projects`. A `.` inside a name becomes `_`. */
export function folderFromMailbox(mailbox: string): string {
  if (mailbox.toUpperCase() === 'INBOX') return '';
  return `.${mailbox.split('/').map((part) => encodeMutf7(part.replace(/\./g, '_'))).join('.')}`;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Whether `dir` is a Maildir: it has `cur/` or `new/`. */
export async function isMaildir(dir: string): Promise<boolean> {
  return (await isDir(join(dir, 'cur'))) || (await isDir(join(dir, 'new')));
}

const collator = new Intl.Collator('en', { numeric: true });

/** Every message file under the root, folder by folder (INBOX first), oldest first within one. */
export async function listMaildir(root: string): Promise<MaildirEntry[]> {
  if (!(await isMaildir(root))) throw new Error(`not a Maildir (no cur/ or new/): ${root}`);
  const folders: { dir: string; mailbox: string }[] = [{ dir: root, mailbox: 'INBOX' }];
  const subdirs = (await readdir(root, { withFileTypes: true }))
    .filter((d) => d.isDirectory() && d.name.startsWith('.') && d.name !== '.' && d.name !== '..')
    .map((d) => d.name)
    .sort();
  for (const name of subdirs) if (await isMaildir(join(root, name))) folders.push({ dir: join(root, name), mailbox: mailboxFromFolder(name) });
  const entries: MaildirEntry[] = [];
  for (const folder of folders) {
    const files: { name: string; path: string; sub: 'new' | 'cur' }[] = [];
    for (const sub of ['new', 'cur'] as const) {
      const dir = join(folder.dir, sub);
      if (!(await isDir(dir))) continue;
      for (const d of await readdir(dir, { withFileTypes: true })) {
        if (d.isFile() && !d.name.startsWith('.')) files.push({ name: d.name, path: join(dir, d.name), sub });
      }
    }
    // Unique names start with the delivery time, then a sequence: numbers compare as numbers.
    files.sort((a, b) => collator.compare(a.name, b.name));
    for (const f of files) entries.push({ mailbox: folder.mailbox, flags: f.sub === 'cur' ? flagsFromName(f.name) : [], path: f.path });
  }
  return entries;
}

/** Reads one listed message. */
export async function readMaildirEntry(entry: MaildirEntry): Promise<MaildirMessage> {
  const [bytes, info] = await Promise.all([readFile(entry.path), stat(entry.path)]);
  return { ...entry, bytes: toCrlf(bytes), mtime: info.mtime };
}

/** Streams the messages of a Maildir and its Maildir++ folders. */
export async function* readMaildir(root: string): AsyncGenerator<MaildirMessage> {
  for (const entry of await listMaildir(root)) yield await readMaildirEntry(entry);
}

export interface MaildirWriter {
  /** Delivers one message into `mailbox`'s `cur/` with `flags` (and `date` as its mtime). */
  write(mailbox: string, bytes: Buffer, options?: { flags?: readonly string[]; date?: Date | number }): Promise<{ path: string; bytes: number }>;
  /** Creates `mailbox`'s folder (with `cur new tmp`) even when it gets no message. */
  ensureFolder(mailbox: string): Promise<string>;
}

let counter = 0;

/** The host part of a unique name, with `/` and `:` escaped as the spec asks. */
function safeHostname(): string {
  return hostname().replace(/\//g, '\\057').replace(/:/g, '\\072');
}

/**
 * A writer into the Maildir at `root` (created when missing). Each message is written to
 * `tmp/` under a unique name, fsynced, then renamed into `cur/` — the Maildir delivery
 * protocol, so a reader never sees half a file.
 */
export async function openMaildirWriter(root: string, options: { fsync?: boolean } = {}): Promise<MaildirWriter> {
  const fsync = options.fsync ?? true;
  const host = safeHostname();
  const ready = new Map<string, Promise<string>>();
  const ensureFolder = (mailbox: string): Promise<string> => {
    const folder = folderFromMailbox(mailbox);
    let made = ready.get(folder);
    if (!made) {
      made = (async () => {
        const dir = folder === '' ? root : join(root, folder);
        for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(dir, sub), { recursive: true });
        // Maildir++: a subfolder is marked by an empty `maildirfolder` file.
        if (folder !== '') await writeFile(join(dir, 'maildirfolder'), '');
        return dir;
      })();
      ready.set(folder, made);
    }
    return made;
  };
  await ensureFolder('INBOX');
  return {
    ensureFolder,
    async write(mailbox, bytes, opts = {}) {
      const dir = await ensureFolder(mailbox);
      const unique = `${Math.floor(Date.now() / 1000)}.${process.pid}_${++counter}.${host}`;
      const tmp = join(dir, 'tmp', unique);
      const data = toLf(bytes);
      const file = await open(tmp, 'wx');
      try {
        await file.write(data);
        if (fsync) await file.sync();
      } finally {
        await file.close();
      }
      if (opts.date !== undefined) {
        const when = new Date(opts.date);
        await utimes(tmp, when, when);
      }
      const final = join(dir, 'cur', unique + infoFromFlags(opts.flags ?? []));
      await rename(tmp, final);
      return { path: final, bytes: data.length };
    },
  };
}
