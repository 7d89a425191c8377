/**
 * FETCH arguments (RFC 9051 §6.4.5 and §9 fetch-att): macros, data items, BODY[section]<partial>,
 * BINARY (RFC 3516 §4.3), MODSEQ and the CHANGEDSINCE / VANISHED modifiers (RFC 7162 §3.1.4, §3.2.6).
 */
import type { FetchAttribute, Partial, Section } from '../command.ts';
import type { Scanner } from './scanner.ts';

/** Items without arguments, one shared frozen object each. */
const SIMPLE = new Map<string, FetchAttribute>(
  ['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'MODSEQ', 'BODY', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT'].map((kind) => [
    kind,
    Object.freeze({ kind }) as FetchAttribute,
  ]),
);

/** No client asks for this many items in one FETCH; more is abuse. */
const MAX_ITEMS = 1000;

const simple = (kind: string) => SIMPLE.get(kind) as FetchAttribute;
const FAST: readonly FetchAttribute[] = Object.freeze(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'].map(simple));
const ALL: readonly FetchAttribute[] = Object.freeze([...FAST, simple('ENVELOPE')]);
const FULL: readonly FetchAttribute[] = Object.freeze([...ALL, simple('BODY')]);

/** A data item's name: letters, digits, `.`, `-`, up to `[`, SP, `)` or the end. */
function itemName(s: Scanner): string {
  const start = s.pos;
  for (;;) {
    const c = s.peek();
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d;
    if (!ok) break;
    s.pos++;
  }
  if (s.pos === start) s.fail('Expected a FETCH data item');
  return s.buf.toString('latin1', start, s.pos).toUpperCase();
}

/** section-part = nz-number *("." nz-number); stops before "." followed by a non-digit. */
function sectionPart(s: Scanner): number[] {
  const part = [s.nzNumber('a section part number')];
  while (s.peek() === 0x2e && s.buf[s.pos + 1] >= 0x30 && s.buf[s.pos + 1] <= 0x39) {
    s.pos++;
    part.push(s.nzNumber('a section part number'));
    if (part.length > 100) s.fail('Section part is too deep');
  }
  return part;
}

/** section = "[" [section-spec] "]" (RFC 9051 §9). */
function section(s: Scanner): Section {
  s.expect(0x5b, '"["');
  if (s.accept(0x5d)) return { part: [], text: null, fields: [] };
  let part: number[] = [];
  const c = s.peek();
  if (c >= 0x30 && c <= 0x39) {
    part = sectionPart(s);
    if (s.accept(0x5d)) return { part, text: null, fields: [] };
    s.expect(0x2e, '"." or "]" in section');
  }
  const text = itemName(s);
  let fields: string[] = [];
  switch (text) {
    case 'HEADER':
    case 'TEXT':
      break;
    case 'MIME':
      if (part.length === 0) s.fail('MIME needs a section part');
      break;
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT':
      s.sp();
      fields = s.list(() => s.astring('a header field name'), false);
      break;
    default:
      s.fail(`Unknown section text ${text}`);
  }
  s.expect(0x5d, '"]" after section');
  return { part, text, fields };
}

/** section-binary = "[" [section-part] "]" (RFC 3516 §4.3). */
function sectionBinary(s: Scanner): number[] {
  s.expect(0x5b, '"["');
  if (s.accept(0x5d)) return [];
  const part = sectionPart(s);
  s.expect(0x5d, '"]" after section');
  return part;
}

/** partial = "<" number64 "." nz-number64 ">" (RFC 9051 §9). */
function partial(s: Scanner): Partial | null {
  if (!s.accept(0x3c)) return null;
  const offset = s.number64('a partial offset');
  s.expect(0x2e, '"." in partial');
  const length = s.number64('a partial length');
  if (length === 0) s.fail('Partial length must not be 0');
  s.expect(0x3e, '">" after partial');
  return { offset, length };
}

function fetchAtt(s: Scanner): FetchAttribute {
  const name = itemName(s);
  if (s.peek() !== 0x5b) {
    if (name === 'BODY.PEEK' || name === 'BINARY' || name === 'BINARY.PEEK' || name === 'BINARY.SIZE') s.fail(`${name} needs a section`);
    return SIMPLE.get(name) ?? s.fail(`Unknown FETCH data item ${name}`);
  }
  switch (name) {
    case 'BODY':
    case 'BODY.PEEK': {
      const sec = section(s);
      return { kind: 'BODY[]', peek: name === 'BODY.PEEK', section: sec, partial: partial(s) };
    }
    case 'BINARY':
    case 'BINARY.PEEK': {
      const part = sectionBinary(s);
      return { kind: 'BINARY[]', peek: name === 'BINARY.PEEK', part, partial: partial(s) };
    }
    case 'BINARY.SIZE':
      return { kind: 'BINARY.SIZE', part: sectionBinary(s) };
    default:
      return s.fail(`Unknown FETCH data item ${name}`);
  }
}

/** ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")"). */
export function fetchAttributes(s: Scanner): readonly FetchAttribute[] {
  if (s.peek() === 0x28) {
    let count = 0;
    return s.list(() => {
      if (++count > MAX_ITEMS) s.fail('Too many FETCH data items');
      return fetchAtt(s);
    }, false);
  }
  if (s.acceptWord('ALL')) return ALL;
  if (s.acceptWord('FAST')) return FAST;
  if (s.acceptWord('FULL')) return FULL;
  return [fetchAtt(s)];
}

export interface FetchModifiers {
  changedSince: number | null;
  vanished: boolean;
}

/** fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")" (RFC 4466 §2.4, RFC 7162 §3.1.4.1). */
export function fetchModifiers(s: Scanner, uid: boolean): FetchModifiers {
  const mods: FetchModifiers = { changedSince: null, vanished: false };
  if (s.atEnd()) return mods;
  s.sp();
  s.list(() => {
    const name = s.keyword('a FETCH modifier');
    if (name === 'CHANGEDSINCE') {
      s.sp();
      mods.changedSince = s.number64('a mod-sequence');
    } else if (name === 'VANISHED') {
      mods.vanished = true;
    } else {
      s.fail(`Unknown FETCH modifier ${name}`);
    }
  }, false);
  // RFC 7162 §3.2.6: VANISHED only in UID FETCH with CHANGEDSINCE, else BAD.
  if (mods.vanished && (!uid || mods.changedSince === null)) s.fail('VANISHED needs UID FETCH with CHANGEDSINCE');
  return mods;
}
