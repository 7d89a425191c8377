/**
 * Test support for IMAP SEARCH: generated messages (varied headers, RFC 2047 words, folding,
 * charsets, transfer encodings, attachments, flags, dates, sizes) delivered through the real
 * parse → split-attachments → store → index stages, and a MailboxService over the same real
 * store, index and blobs (its writes throw: searches only read).
 */
import { readMessageBytes } from '../../../connectors/blob/body.ts';
import type { MailboxService } from '../../mailbox-service.ts';
import type { MailboxCommand, MailboxEvent, MailReceived } from '../../../schemas/types.ts';
import { parseProcessor } from '../../../processors/parse.ts';
import { splitAttachmentsProcessor } from '../../../processors/split-attachments.ts';
import { storeProcessor } from '../../../processors/store.ts';
import { indexProcessor } from '../../../processors/index-stage.ts';
import { inputRecord, type TestResources } from '../../../processors/test-resources.ts';

export const VOCABULARY = [
  'alpha', 'Bravo', 'charlie', 'délta', 'Ωmega', 'straße', 'naïve', 'invoice', 'Report', 'meeting', 'Zürich', '東京',
  'quarterly', 'foo-bar', 'walrus', 'ΣΟΦΙΑ', 'résumé', 'ÉCOLE', 'garçon', 'Привет', 'data', 'budget', 'x@y', '50%',
  'a_b', 'ΟΔΟΣ', '"quoted"', 'AND', 'NOT', 'c++', 'e-mail', 'MiXeD', 'zebra', 'over', 'lazy', 'dog', 'The', 'quick', 'brown',
];
const NAMES = ['Bob Sender', 'Zoë Müller', 'Anna Smith', 'José Núñez', 'Ωmar', 'Carol'];
const ADDRESSES = ['bob@remote.test', 'zoe@example.org', 'anna@example.org', 'jose@exa.mple', 'omar@greek.test', 'carol@example.net'];
const DOW = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export const FLAG_CHOICES = ['\\Seen', '\\Flagged', '\\Answered', '\\Draft', '$Work', 'Urgent'];
/** Internal dates start here and go 5–8 hours apart. */
export const FIRST_RECEIVED = Date.UTC(2025, 0, 1, 3, 0, 0);

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedMessage {
  readonly raw: Buffer;
  readonly receivedAt: number;
  readonly flags: string[];
}

function encodedWord(text: string, q: boolean): string {
  if (!q) return `=?UTF-8?B?${Buffer.from(text).toString('base64')}?=`;
  const bytes = [...Buffer.from(text)].map((b) =>
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ? String.fromCharCode(b) : b === 0x20 ? '_' : `=${b.toString(16).toUpperCase().padStart(2, '0')}`,
  );
  return `=?utf-8?q?${bytes.join('')}?=`;
}

function quotedPrintable(bytes: Buffer): string {
  const lines: string[] = [];
  let line = '';
  for (const b of bytes) {
    if (b === 0x0a) {
      lines.push(line);
      line = '';
      continue;
    }
    const ch = b !== 0x3d && b !== 0x0d && b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
    if (line.length + ch.length > 72) {
      lines.push(`${line}=`);
      line = '';
    }
    line += ch;
  }
  lines.push(line);
  return lines.join('\r\n');
}

function base64Lines(bytes: Buffer): string {
  return (bytes.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

/** Message `i` of a generated mailbox (deterministic for a seed). */
export function generateMessage(i: number, random: () => number): GeneratedMessage {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const words = (n: number, latin1 = false): string =>
    Array.from({ length: n }, () => {
      let w = pick(VOCABULARY);
      while (latin1 && [...w].some((c) => c.charCodeAt(0) > 0xff)) w = pick(VOCABULARY);
      return w;
    }).join(' ');
  const person = (): string => {
    const k = Math.floor(random() * NAMES.length);
    const name = NAMES[k];
    const style = random();
    if (style < 0.25) return ADDRESSES[k];
    if (style < 0.5 && [...name].some((c) => c.charCodeAt(0) > 0x7f)) return `${encodedWord(name, random() < 0.5)} <${ADDRESSES[k]}>`;
    return `"${name}" <${ADDRESSES[k]}>`;
  };
  const lines: string[] = [`From: ${person()}`, `To: ${Array.from({ length: 1 + Math.floor(random() * 3) }, person).join(', ')}`];
  if (random() < 0.4) lines.push(`Cc: ${person()}`);
  if (random() < 0.15) lines.push(`Bcc: ${person()}`);
  const subject = words(1 + Math.floor(random() * 6));
  const subjectStyle = random();
  if (subjectStyle < 0.1) {
    // no Subject field
  } else if (subjectStyle < 0.35) lines.push(`Subject: ${encodedWord(subject, random() < 0.5)}`);
  else if (subjectStyle < 0.5) lines.push(`Subject: ${subject}\r\n ${words(3)}\r\n\t${words(2)}`);
  else lines.push(`Subject: ${subject}`);
  const receivedAt = FIRST_RECEIVED + i * 5 * 3_600_000 + Math.floor(random() * 3 * 3_600_000);
  if (random() < 0.9) {
    const sent = new Date(receivedAt - Math.floor(random() * 30 * 3_600_000));
    const tz = pick(['+0000', '-0500', '+1100', '+0530', '-1000']);
    const dd = random() < 0.5 ? String(sent.getUTCDate()) : String(sent.getUTCDate()).padStart(2, '0');
    const time = `${String(sent.getUTCHours()).padStart(2, '0')}:${String(sent.getUTCMinutes()).padStart(2, '0')}:00`;
    const dow = random() < 0.8 ? `${DOW[sent.getUTCDay()]}, ` : '';
    lines.push(`Date: ${dow}${dd} ${MON[sent.getUTCMonth()]} ${sent.getUTCFullYear()} ${time} ${tz}`);
  }
  lines.push(`Message-ID: <gen-${i}@generated.test>`);
  if (random() < 0.3) lines.push(`X-Custom: ${words(2)}`);
  if (random() < 0.2) lines.push(`X-Mailer: Generator ${i % 7}`);
  lines.push('MIME-Version: 1.0');

  const bodyWords = Array.from({ length: 3 + Math.floor(random() * 8) }, () => words(2 + Math.floor(random() * 8))).join('\n');
  const kind = random();
  let body: Buffer;
  if (kind < 0.2) {
    const latin = Array.from({ length: 4 }, () => words(5, true)).join('\n');
    lines.push('Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable');
    body = Buffer.from(quotedPrintable(Buffer.from(latin.replace(/\n/g, '\r\n'), 'latin1')));
  } else if (kind < 0.4) {
    lines.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64');
    body = Buffer.from(base64Lines(Buffer.from(bodyWords.replace(/\n/g, '\r\n'))));
  } else if (kind < 0.6) {
    const large = random() < 0.05;
    const attachment = Buffer.alloc(large ? 200_000 + Math.floor(random() * 50_000) : 100 + Math.floor(random() * 8000));
    for (let b = 0; b < attachment.length; b++) attachment[b] = Math.floor(random() * 256);
    const filename = `${pick(['Report', 'scan', 'Résumé', 'data'])}-${i}.${pick(['pdf', 'BIN', 'xlsx'])}`;
    lines.push(`Content-Type: multipart/mixed; boundary="b-${i}"`);
    body = Buffer.from(
      [
        'This is a multi-part message.',
        `--b-${i}`,
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        quotedPrintable(Buffer.from(bodyWords.replace(/\n/g, '\r\n'))),
        `--b-${i}`,
        `Content-Type: application/octet-stream; name="${filename}"`,
        `Content-Disposition: attachment; filename="${filename}"`,
        'Content-Transfer-Encoding: base64',
        '',
        base64Lines(attachment),
        `--b-${i}--`,
        '',
      ].join('\r\n'),
    );
  } else {
    lines.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
    body = Buffer.from(`${bodyWords.replace(/\n/g, '\r\n')}\r\n`);
  }
  const flags = FLAG_CHOICES.filter(() => random() < 0.25);
  return { raw: Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body]), receivedAt, flags };
}

/** Stages over `resources`, and helpers to push records through them. */
export function pipeline(res: TestResources, userId: string) {
  const parse = parseProcessor.create(parseProcessor.spec.config.parse({}), res);
  const split = splitAttachmentsProcessor.create(splitAttachmentsProcessor.spec.config.parse({}), res);
  const store = storeProcessor.create(storeProcessor.spec.config.parse({}), res);
  const index = indexProcessor.create({}, res);
  let offset = 0;
  return {
    /** parse → split-attachments: the deliver commands. */
    async commands(messages: readonly GeneratedMessage[], mailbox = 'INBOX'): Promise<MailboxCommand[]> {
      const out: MailboxCommand[] = [];
      for (const m of messages) {
        const n = offset++;
        const received: MailReceived = {
          ingressId: `gen-${n}`, userId, recipient: userId, mailFrom: 'sender@remote.test', source: 'smtp',
          remoteAddress: '127.0.0.1', helo: 'remote.test', receivedAt: m.receivedAt,
          rawBlob: await res.blobs.put(m.raw), size: m.raw.length, mailbox, flags: m.flags,
        };
        const [parsed] = await parse.process(inputRecord('mail.received', userId, received, n));
        const [command] = await split.process(inputRecord('mail.parsed', userId, parsed.value, n));
        out.push(command.value);
      }
      return out;
    },
    /** The store stage: the events it emits. */
    async store(commands: readonly MailboxCommand[]): Promise<MailboxEvent[]> {
      const outputs = await store.processBatch!(commands.map((c) => inputRecord('mailbox.commands', userId, c, offset++)));
      return outputs.flat().map((o) => o.value);
    },
    /** The index stage. */
    async index(events: readonly MailboxEvent[]): Promise<void> {
      await index.processBatch!(events.map((e) => inputRecord('mailbox.events', userId, e, offset++)));
    },
  };
}

/** A MailboxService for searches: real reads, no writes. */
export function readOnlyService(res: TestResources): MailboxService {
  return {
    store: res.store,
    search: res.search,
    change: () => Promise.reject(new Error('read-only test service')),
    append: () => Promise.reject(new Error('read-only test service')),
    messageBytes: (message) => readMessageBytes(res.blobs, message.body),
    watch: () => () => undefined,
  };
}
