/**
 * One message's FETCH response (RFC 9051 §6.4.5, §7.5.2; BINARY RFC 3516; MODSEQ RFC 7162
 * §3.1.4): what the attributes need (store row only, cached structure values, or the bytes),
 * and the encoded `* n FETCH (…)` line.
 */
import type { FetchAttribute, Section } from '../command.ts';
import type { MessageFacts } from '../../../connectors/store/store.ts';
import type { ImapValue } from '../wire/data.ts';
import { encodeValue, formatInternalDate, literal8, ResponseBuilder, type Chunk } from '../wire/encode.ts';
import { parseStructure, type MimePart } from '../mime/structure.ts';
import { envelope } from '../mime/envelope.ts';
import { bodyStructure } from '../mime/bodystructure.ts';
import { applyPartial, sectionBytes } from '../mime/section.ts';
import { binaryContent } from '../mime/binary.ts';
import { Lru } from './lru.ts';
import { binaryName, bodySectionName } from './names.ts';
import { shownFlags } from '../recent.ts';

/**
 * ENVELOPE, BODY and BODYSTRUCTURE by message key (a message's bytes never change), kept as the
 * encoded response text — once for 7-bit quoting, once where UTF-8 may be quoted.
 */
export interface StructureValues {
  envelope?: ImapValue;
  body?: ImapValue;
  bodystructure?: ImapValue;
  encoded?: Map<string, string>;
}

const structureCache = new Lru<string, StructureValues>(20_000);

type StructureKind = 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE';

function isStructure(kind: FetchAttribute['kind']): kind is StructureKind {
  return kind === 'ENVELOPE' || kind === 'BODY' || kind === 'BODYSTRUCTURE';
}

/** RFC 9051 §6.4.5: fetching body text without .PEEK sets \Seen (RFC822.HEADER is BODY.PEEK[HEADER]). */
export function setsSeen(attributes: readonly FetchAttribute[]): boolean {
  return attributes.some(
    (a) => ((a.kind === 'BODY[]' || a.kind === 'BINARY[]') && !a.peek) || a.kind === 'RFC822' || a.kind === 'RFC822.TEXT',
  );
}

/** The cached structure values of a message (held by the caller, so eviction cannot take them mid-FETCH). */
export function structureValues(messageKey: string): StructureValues {
  let values = structureCache.get(messageKey);
  if (!values) structureCache.set(messageKey, (values = {}));
  return values;
}

function fieldOf(kind: StructureKind): 'envelope' | 'body' | 'bodystructure' {
  return kind === 'ENVELOPE' ? 'envelope' : kind === 'BODY' ? 'body' : 'bodystructure';
}

/** Whether some attribute reads the message bytes whatever is cached (sections, BINARY, RFC822 …). */
export function alwaysNeedsBytes(attributes: readonly FetchAttribute[]): boolean {
  return attributes.some((a) => readsBytes(a.kind));
}

function readsBytes(kind: FetchAttribute['kind']): boolean {
  return kind.startsWith('BODY[') || kind.startsWith('BINARY') || (kind.startsWith('RFC822') && kind !== 'RFC822.SIZE');
}

/** Whether the message bytes must be read for `attributes`, given its cached structure values. */
export function needsBytes(attributes: readonly FetchAttribute[], cached: StructureValues, utf8: boolean): boolean {
  for (const a of attributes) {
    if (isStructure(a.kind)) {
      if (cached.encoded?.get(utf8 ? `${a.kind}/utf8` : a.kind) === undefined && cached[fieldOf(a.kind)] === undefined) return true;
    } else if (readsBytes(a.kind)) {
      return true;
    }
  }
  return false;
}

export interface FetchLineOptions {
  readonly seq: number;
  /** The store's facts of the message (a full `StoredMessage` is one too). */
  readonly message: MessageFacts;
  /** The message bytes, when `needsBytes` said so. */
  readonly raw: Buffer | null;
  /** From `structureValues(message.messageKey)`. */
  readonly cached: StructureValues;
  readonly attributes: readonly FetchAttribute[];
  /** Items added in front / at the end, when not asked for: UID (UID FETCH), FLAGS (\Seen set), MODSEQ (CONDSTORE). */
  readonly addUid: boolean;
  readonly addFlags: boolean;
  readonly addModseq: boolean;
  /** The message is \Recent in this session and the client is IMAP4rev1 (RFC 3501 §2.3.2). */
  readonly recent?: boolean;
  /** UTF-8 allowed in quoted strings (IMAP4rev2 / UTF8=ACCEPT). */
  readonly utf8: boolean;
}

/**
 * `chunks`: the line's text and, uncopied, the Buffers of its literals (`ResponseBuilder.toChunks`).
 * `NEED-BYTES`: a cached value went away since `needsBytes` (another session re-encoded it): call again with the bytes.
 */
export type FetchLine = { readonly ok: true; readonly chunks: readonly Chunk[] } | { readonly ok: false; readonly code: 'UNKNOWN-CTE' | 'NEED-BYTES' };

class NeedBytes extends Error {}

const SECTION_RFC822_HEADER: Section = { part: [], text: 'HEADER', fields: [] };
const SECTION_RFC822_TEXT: Section = { part: [], text: 'TEXT', fields: [] };

export function fetchLine(options: FetchLineOptions): FetchLine {
  try {
    return buildLine(options);
  } catch (err) {
    if (err instanceof NeedBytes) return { ok: false, code: 'NEED-BYTES' };
    throw err;
  }
}

/**
 * The items of one `* n FETCH (…)` line: each at most once, space-separated. A class rather than
 * closures per call — a FETCH 1:* builds thousands of lines.
 */
class LineItems {
  readonly out: ResponseBuilder;
  private first = true;
  private readonly done = new Set<string>();
  private root: MimePart | null = null;

  constructor(private readonly options: FetchLineOptions) {
    this.out = new ResponseBuilder({ utf8: options.utf8 });
    this.out.text(`* ${options.seq} FETCH (`);
  }

  /** Whether `key` is not written yet (and claims it). */
  once(key: string): boolean {
    if (this.done.has(key)) return false;
    this.done.add(key);
    return true;
  }

  item(name: string): ResponseBuilder {
    this.out.text(this.first ? `${name} ` : ` ${name} `);
    this.first = false;
    return this.out;
  }

  structure(): MimePart {
    return (this.root ??= parseStructure(this.options.raw as Buffer));
  }

  flags(): void {
    if (this.once('FLAGS')) this.item('FLAGS').text(`(${shownFlags(this.options.message.flags, this.options.recent ?? false).join(' ')})`);
  }

  uid(): void {
    if (this.once('UID')) this.item('UID').text(String(this.options.message.uid));
  }

  modseq(): void {
    if (this.once('MODSEQ')) this.item('MODSEQ').text(`(${this.options.message.modseq})`);
  }
}

function buildLine(options: FetchLineOptions): FetchLine {
  const { message, raw } = options;
  const line = new LineItems(options);
  if (options.addUid) line.uid();
  for (const a of options.attributes) {
    switch (a.kind) {
      case 'UID':
        line.uid();
        break;
      case 'FLAGS':
        line.flags();
        break;
      case 'MODSEQ':
        line.modseq();
        break;
      case 'INTERNALDATE':
        if (line.once(a.kind)) line.item('INTERNALDATE').text(formatInternalDate(message.receivedAt));
        break;
      case 'RFC822.SIZE':
        if (line.once(a.kind)) line.item('RFC822.SIZE').text(String(message.size));
        break;
      case 'ENVELOPE':
      case 'BODY':
      case 'BODYSTRUCTURE':
        if (line.once(a.kind)) line.item(a.kind).text(encodedStructure(a.kind, options.cached, raw, line, options.utf8));
        break;
      case 'RFC822':
        if (line.once(a.kind)) line.item('RFC822').value(raw as Buffer);
        break;
      case 'RFC822.HEADER':
      case 'RFC822.TEXT': {
        if (!line.once(a.kind)) break;
        const bytes = sectionBytes(raw as Buffer, line.structure(), a.kind === 'RFC822.HEADER' ? SECTION_RFC822_HEADER : SECTION_RFC822_TEXT);
        line.item(a.kind).value(bytes ?? '');
        break;
      }
      case 'BODY[]': {
        const name = bodySectionName(a.section, a.partial);
        if (!line.once(name)) break;
        // The whole message (BODY[], the common case) needs no MIME parse.
        const whole = a.section.part.length === 0 && a.section.text === null;
        const bytes = whole ? (raw as Buffer) : sectionBytes(raw as Buffer, line.structure(), a.section);
        // A part that does not exist is an empty string (RFC 9051 §6.4.5).
        const data = bytes ? applyPartial(withoutNul(bytes, a.section), a.partial) : null;
        line.item(name).value(data && data.length > 0 ? data : '');
        break;
      }
      case 'BINARY[]': {
        const name = binaryName('BINARY', a.part, a.partial);
        if (!line.once(name)) break;
        const content = binaryContent(raw as Buffer, line.structure(), a.part);
        if (!content.ok && content.reason === 'UNKNOWN-CTE') return { ok: false, code: 'UNKNOWN-CTE' }; // RFC 3516 §5
        if (!content.ok) {
          line.item(name).text('NIL');
          break;
        }
        const bytes = applyPartial(content.bytes, a.partial);
        // RFC 3516 §4.2: literal8 when the content holds NUL, a plain literal otherwise.
        if (bytes.includes(0)) line.item(name).bytes(literal8(bytes));
        else line.item(name).value(bytes.length > 0 ? bytes : '');
        break;
      }
      case 'BINARY.SIZE': {
        const name = binaryName('BINARY.SIZE', a.part);
        if (!line.once(name)) break;
        const content = binaryContent(raw as Buffer, line.structure(), a.part);
        if (!content.ok && content.reason === 'UNKNOWN-CTE') return { ok: false, code: 'UNKNOWN-CTE' };
        line.item(name).text(content.ok ? String(content.bytes.length) : 'NIL');
        break;
      }
    }
  }
  if (options.addFlags) line.flags();
  if (options.addModseq) line.modseq();
  line.out.text(')\r\n');
  return { ok: true, chunks: line.out.toChunks() };
}

function structureValue(kind: StructureKind, cached: StructureValues, raw: Buffer | null, line: LineItems): ImapValue {
  const field = fieldOf(kind);
  const hit = cached[field];
  if (hit !== undefined) return hit;
  if (!raw) throw new NeedBytes();
  const bytes = raw;
  const value = kind === 'ENVELOPE' ? envelope(bytes, line.structure()) : bodyStructure(bytes, line.structure(), kind === 'BODYSTRUCTURE');
  cached[field] = value;
  return value;
}

function encodedStructure(kind: StructureKind, cached: StructureValues, raw: Buffer | null, line: LineItems, utf8: boolean): string {
  const key = utf8 ? `${kind}/utf8` : kind;
  let text = cached.encoded?.get(key);
  if (text === undefined) {
    // Literals inside count UTF-8 bytes; the text round-trips through UTF-8 unchanged.
    text = encodeValue(structureValue(kind, cached, raw, line), { utf8 }).toString('utf8');
    (cached.encoded ??= new Map()).set(key, text);
    // Keep only the text: the value is rebuilt from the bytes if the other quoting is ever asked for.
    cached[fieldOf(kind)] = undefined;
  }
  return text;
}

/**
 * RFC 3516 §4.3 / RFC 9051 §4.3.1: a plain literal must not hold NUL, so the content of a part
 * that does (binary content, APPENDed as a literal8) is sent base64-encoded in BODY[n], as
 * Dovecot does; BINARY[n] gives it as it is. Other sections are sent unchanged.
 */
export function withoutNul(bytes: Buffer, section: Section): Buffer {
  if (section.part.length === 0 || section.text !== null || !bytes.includes(0)) return bytes;
  const lines = bytes.toString('base64').match(/.{1,76}/g) ?? [];
  return Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'latin1');
}
