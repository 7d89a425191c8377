/**
 * The tokenizer under `parse-command.ts`: a cursor over one command's bytes with the basic
 * rules of the formal syntax (RFC 9051 §9, RFC 3501 §9): atoms, astrings, quoted strings,
 * literals (`{n}`, `{n+}` RFC 7888, `~{n}` RFC 3516), numbers, flags. Every failure throws an
 * ImapParseError carrying the command's tag.
 */
import { ImapParseError } from '../command.ts';

const ATOM = 1;
const ASTRING = 2;
const LIST = 4;
const TAG = 8;

/** Character classes of RFC 9051 §9: ATOM-CHAR, ASTRING-CHAR, list-char, tag chars. */
const CLASS = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) {
  const atomSpecial = c === 0x28 || c === 0x29 || c === 0x7b || c === 0x25 || c === 0x2a || c === 0x22 || c === 0x5c || c === 0x5d;
  let cls = 0;
  if (!atomSpecial) cls |= ATOM | ASTRING | LIST;
  if (c === 0x5d) cls |= ASTRING | LIST; // resp-specials
  if (c === 0x25 || c === 0x2a) cls |= LIST; // list-wildcards
  if ((cls & ASTRING) !== 0 && c !== 0x2b) cls |= TAG; // tag: any ASTRING-CHAR except "+"
  CLASS[c] = cls;
}

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_NUMBER = 0xffffffff;

export class Scanner {
  pos = 0;
  tag: string | null = null;

  constructor(readonly buf: Buffer) {}

  fail(message: string): never {
    throw new ImapParseError(message, this.tag);
  }

  atEnd(): boolean {
    return this.pos >= this.buf.length;
  }

  peek(): number {
    return this.pos < this.buf.length ? this.buf[this.pos] : -1;
  }

  /** True (and consumed) when the next byte is `c`. */
  accept(c: number): boolean {
    if (this.buf[this.pos] === c && this.pos < this.buf.length) {
      this.pos++;
      return true;
    }
    return false;
  }

  expect(c: number, what: string): void {
    if (!this.accept(c)) this.fail(`Expected ${what}`);
  }

  sp(): void {
    if (!this.accept(SP)) this.fail('Expected a space');
  }

  end(): void {
    if (!this.atEnd()) this.fail('Unexpected characters at the end of the command');
  }

  private run(cls: number): string {
    const start = this.pos;
    while (this.pos < this.buf.length && (CLASS[this.buf[this.pos]] & cls) !== 0) this.pos++;
    return this.buf.toString('latin1', start, this.pos);
  }

  /** RFC 9051 §9 tag. */
  readTag(): string {
    const tag = this.run(TAG);
    if (tag === '') this.fail('Missing or invalid tag');
    return tag;
  }

  /** 1*ATOM-CHAR. */
  atom(what = 'an atom'): string {
    const s = this.run(ATOM);
    if (s === '') this.fail(`Expected ${what}`);
    return s;
  }

  /** An atom, upper-cased: keywords of the grammar (case-insensitive). */
  keyword(what = 'a keyword'): string {
    return this.atom(what).toUpperCase();
  }

  /** True (and consumed) when the next atom is `word` (case-insensitive) followed by a non-atom char. */
  acceptWord(word: string): boolean {
    const end = this.pos + word.length;
    if (end > this.buf.length) return false;
    if (end < this.buf.length && (CLASS[this.buf[end]] & ATOM) !== 0) return false;
    for (let i = 0; i < word.length; i++) {
      let c = this.buf[this.pos + i];
      if (c >= 0x61 && c <= 0x7a) c -= 0x20;
      if (c !== word.charCodeAt(i)) return false;
    }
    this.pos = end;
    return true;
  }

  /** astring = 1*ASTRING-CHAR / string. */
  astring(what = 'a string'): string {
    const c = this.peek();
    if (c === DQUOTE || c === 0x7b) return this.string();
    const s = this.run(ASTRING);
    if (s === '') this.fail(`Expected ${what}`);
    return s;
  }

  /** nstring = string / "NIL". */
  nstring(): string | null {
    const c = this.peek();
    if (c === DQUOTE || c === 0x7b) return this.string();
    if (this.acceptWord('NIL')) return null;
    return this.fail('Expected a string or NIL');
  }

  /** string = quoted / literal, decoded as UTF-8 (RFC 9051 §4.3). */
  string(): string {
    if (this.peek() === DQUOTE) return this.quoted();
    return this.literal(false).toString('utf8');
  }

  /** quoted = DQUOTE *QUOTED-CHAR DQUOTE; 8-bit allowed as UTF-8 (RFC 9051 §9). */
  quoted(): string {
    this.expect(DQUOTE, 'a quoted string');
    const start = this.pos;
    let escaped = false;
    const buf = this.buf;
    for (;;) {
      if (this.pos >= buf.length) this.fail('Unterminated quoted string');
      const c = buf[this.pos];
      if (c === DQUOTE) break;
      if (c === 0x0d || c === 0x0a || c === 0) this.fail('Quoted string holds CR, LF or NUL');
      if (c === BACKSLASH) {
        const next = buf[this.pos + 1];
        if (next !== DQUOTE && next !== BACKSLASH) this.fail('Invalid escape in quoted string');
        escaped = true;
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
    const raw = buf.toString('utf8', start, this.pos);
    this.pos++;
    return escaped ? raw.replace(/\\(["\\])/g, '$1') : raw;
  }

  /**
   * literal = "{" number64 ["+"] "}" CRLF *CHAR8 (RFC 9051 §9, RFC 7888 §8); with `allow8`,
   * also literal8 = "~{" number64 ["+"] "}" CRLF *OCTET (RFC 3516 §4.2). The bytes are
   * inline, as `wire/reader.ts` frames them.
   */
  literal(allow8: boolean): Buffer {
    if (allow8 && this.peek() === 0x7e) this.pos++;
    this.expect(0x7b, 'a string');
    const start = this.pos;
    while (this.pos - start <= 20 && this.peek() >= 0x30 && this.peek() <= 0x39) this.pos++;
    if (this.pos === start || this.pos - start > 20) this.fail('Invalid literal length');
    const length = Number(this.buf.toString('latin1', start, this.pos));
    this.accept(0x2b);
    this.expect(0x7d, '"}" after the literal length');
    this.accept(0x0d);
    this.expect(0x0a, 'CRLF after the literal length');
    if (length > this.buf.length - this.pos) this.fail('Truncated literal');
    const bytes = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return bytes;
  }

  /** number (RFC 9051 §9): 32-bit unsigned. */
  number(what = 'a number'): number {
    const start = this.pos;
    while (this.pos - start <= 10 && this.peek() >= 0x30 && this.peek() <= 0x39) this.pos++;
    if (this.pos === start) this.fail(`Expected ${what}`);
    const n = this.pos - start > 10 ? Infinity : Number(this.buf.toString('latin1', start, this.pos));
    if (n > MAX_NUMBER) this.fail(`${what} is too large`);
    return n;
  }

  /** nz-number: a number, not 0. */
  nzNumber(what = 'a non-zero number'): number {
    const n = this.number(what);
    if (n === 0) this.fail(`Expected ${what}`);
    return n;
  }

  /** number64 / mod-sequence-value (RFC 9051 §9, RFC 7162 §7): up to 2^63-1; JS keeps 2^53-1 exact. */
  number64(what = 'a number'): number {
    const start = this.pos;
    while (this.pos - start <= 19 && this.peek() >= 0x30 && this.peek() <= 0x39) this.pos++;
    if (this.pos === start) this.fail(`Expected ${what}`);
    const n = this.pos - start > 19 ? Infinity : Number(this.buf.toString('latin1', start, this.pos));
    if (n > Number.MAX_SAFE_INTEGER) this.fail(`${what} is too large`);
    return n;
  }

  /** list-mailbox = 1*list-char / string (RFC 9051 §9). */
  listMailbox(): string {
    const c = this.peek();
    if (c === DQUOTE || c === 0x7b) return this.string();
    const s = this.run(LIST);
    if (s === '') this.fail('Expected a mailbox pattern');
    return s;
  }

  /** mailbox = "INBOX" / astring; INBOX is case-insensitive (RFC 9051 §5.1). */
  mailbox(): string {
    const name = this.astring('a mailbox name');
    return name.length === 5 && name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
  }

  /** flag = "\" atom / flag-keyword (RFC 9051 §9); `\*` only where `allowStar`. */
  flag(allowStar = false): string {
    if (this.accept(BACKSLASH)) {
      if (allowStar && this.accept(0x2a)) return '\\*';
      return `\\${this.atom('a flag name')}`;
    }
    return this.atom('a flag');
  }

  /** flag-list = "(" [flag *(SP flag)] ")". */
  flagList(): string[] {
    this.expect(0x28, '"(" before the flags');
    const flags: string[] = [];
    if (this.accept(0x29)) return flags;
    for (;;) {
      flags.push(this.flag());
      if (this.accept(0x29)) return flags;
      this.sp();
    }
  }

  /** "(" item *(SP item) ")"; `allowEmpty` for `()`. */
  list<T>(item: () => T, allowEmpty = true): T[] {
    this.expect(0x28, '"("');
    const items: T[] = [];
    if (this.accept(0x29)) {
      if (!allowEmpty) this.fail('Expected a non-empty list');
      return items;
    }
    for (;;) {
      items.push(item());
      if (this.accept(0x29)) return items;
      this.sp();
    }
  }
}
