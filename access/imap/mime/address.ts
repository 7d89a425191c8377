/**
 * Address lists for ENVELOPE (RFC 5322 §3.4, obsolete forms of §4.4): mailboxes, groups,
 * quoted names, comments, routes. Lenient like Dovecot's message-address parser: a missing
 * local part or domain becomes `MISSING_MAILBOX` / `MISSING_DOMAIN` (a NIL host would read as
 * a group marker, RFC 9051 §7.5.2), a comment stands in for a missing display name. UTF-8
 * (RFC 6532) passes through. Names are not RFC 2047-decoded here.
 */

export interface AddressMailbox {
  readonly kind: 'mailbox';
  readonly name: string | null;
  /** The obsolete source route, `@a,@b`. */
  readonly adl: string | null;
  readonly mailbox: string;
  readonly host: string;
}

export interface AddressGroup {
  readonly kind: 'group';
  readonly name: string;
  readonly members: readonly AddressMailbox[];
}

export type Address = AddressMailbox | AddressGroup;

export const MISSING_MAILBOX = 'MISSING_MAILBOX';
export const MISSING_DOMAIN = 'MISSING_DOMAIN';

interface Token {
  /** `w` word (atom or quoted string), `c` comment, `l` domain literal, or a special character. */
  readonly kind: 'w' | 'c' | 'l' | '<' | '>' | ':' | ';' | '@' | ',' | '.';
  readonly text: string;
  /** White space came before it. */
  readonly space: boolean;
}

const SPECIALS = '<>:;@,.';

// Characters that end an atom: white space, specials, quotes, comments, literals, backslash.
const BREAKS = new Uint8Array(128);
for (const c of ' \t\r\n"()[]\\<>:;@,.') BREAKS[c.charCodeAt(0)] = 1;

/** Text up to the unescaped `close`, backslash escapes undone; [text, index of close]. */
function until(value: string, from: number, close: string): [string, number] {
  let i = from;
  let text = '';
  let chunk = i;
  while (i < value.length && value[i] !== close) {
    if (value[i] === '\\' && i + 1 < value.length) {
      text += value.slice(chunk, i);
      chunk = i + 1;
      i += 2;
    } else i++;
  }
  return [text + value.slice(chunk, i), i];
}

function lex(value: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let space = false;
  const n = value.length;
  while (i < n) {
    const code = value.charCodeAt(i);
    const c = value[i];
    if (code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a) {
      space = true;
      i++;
      continue;
    }
    if (c === '"') {
      const [text, close] = until(value, i + 1, '"');
      tokens.push({ kind: 'w', text, space });
      i = close + 1;
    } else if (c === '(') {
      let depth = 1;
      let text = '';
      i++;
      while (i < n && depth > 0) {
        const d = value[i];
        if (d === '\\' && i + 1 < n) {
          text += value[i + 1];
          i += 2;
          continue;
        }
        if (d === '(') depth++;
        else if (d === ')' && --depth === 0) break;
        text += d;
        i++;
      }
      i++;
      tokens.push({ kind: 'c', text: text.trim(), space });
    } else if (c === '[') {
      const close = value.indexOf(']', i);
      const stop = close < 0 ? n : close + 1;
      tokens.push({ kind: 'l', text: value.slice(i, stop), space });
      i = stop;
    } else if (SPECIALS.includes(c)) {
      tokens.push({ kind: c as Token['kind'], text: c, space });
      i++;
    } else if (c === ')' || c === ']' || c === '\\') {
      i++; // stray: ignored
    } else {
      const start = i;
      while (i < n) {
        const d = value.charCodeAt(i);
        if (d < 128 && BREAKS[d] === 1) break;
        i++;
      }
      tokens.push({ kind: 'w', text: value.slice(start, i), space });
    }
    space = false;
  }
  return tokens;
}

/** Words joined the way they were written, runs of white space made one space. */
function phrase(tokens: readonly Token[]): string {
  let out = '';
  for (const token of tokens) {
    if (token.kind === 'c') continue;
    out += (out && token.space ? ' ' : '') + token.text;
  }
  return out;
}

/** local-part "@" domain from tokens without white space between them. */
function addrSpec(tokens: readonly Token[]): { mailbox: string; host: string } {
  const words = tokens.filter((t) => t.kind !== 'c');
  let at = -1;
  for (let i = words.length - 1; i >= 0; i--) if (words[i].kind === '@') { at = i; break; }
  const join = (list: readonly Token[]): string => list.map((t) => t.text).join('');
  const mailbox = at < 0 ? join(words) : join(words.slice(0, at));
  const host = at < 0 ? '' : join(words.slice(at + 1));
  return { mailbox: mailbox || MISSING_MAILBOX, host: host || MISSING_DOMAIN };
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  list(): Address[] {
    const out: Address[] = [];
    while (this.i < this.tokens.length) {
      const kind = this.tokens[this.i].kind;
      if (kind === ',' || kind === ';' || kind === '>') {
        this.i++;
        continue;
      }
      const address = this.address(false);
      if (address) out.push(address);
    }
    return out;
  }

  /** One mailbox or (outside a group) group; null when there was nothing but separators/comments. */
  private address(inGroup: boolean): Address | null {
    const collected: Token[] = [];
    while (this.i < this.tokens.length) {
      const token = this.tokens[this.i];
      if (token.kind === ',' || token.kind === ';') break;
      if (token.kind === ':' && !inGroup) {
        this.i++;
        return this.group(phrase(collected));
      }
      if (token.kind === '<') {
        this.i++;
        return this.angle(collected);
      }
      collected.push(token);
      this.i++;
    }
    if (!collected.some((t) => t.kind !== 'c')) return null;
    const comment = collected.filter((t) => t.kind === 'c').pop();
    return { kind: 'mailbox', name: comment?.text || null, adl: null, ...addrSpec(collected) };
  }

  private group(name: string): AddressGroup {
    const members: AddressMailbox[] = [];
    while (this.i < this.tokens.length) {
      const kind = this.tokens[this.i].kind;
      if (kind === ';') {
        this.i++;
        break;
      }
      if (kind === ',' || kind === ':' || kind === '>') {
        this.i++;
        continue;
      }
      const member = this.address(true);
      if (member && member.kind === 'mailbox') members.push(member);
    }
    return { kind: 'group', name, members };
  }

  /** After `<`: [route ":"] addr-spec ">" (RFC 5322 §4.4 obs-angle-addr). */
  private angle(before: readonly Token[]): AddressMailbox {
    const inside: Token[] = [];
    while (this.i < this.tokens.length && this.tokens[this.i].kind !== '>') inside.push(this.tokens[this.i++]);
    this.i++;
    let adl: string | null = null;
    let spec = inside;
    const colon = inside.findIndex((t) => t.kind === ':');
    if (colon >= 0 && inside[0]?.kind === '@') {
      adl = inside.slice(0, colon).filter((t) => t.kind !== 'c').map((t) => t.text).join('');
      spec = inside.slice(colon + 1);
    }
    // Anything after '>' up to the next separator: only comments are expected there.
    const after: Token[] = [];
    while (this.i < this.tokens.length && !',;'.includes(this.tokens[this.i].kind)) after.push(this.tokens[this.i++]);
    const name = phrase(before) || [...before, ...after].filter((t) => t.kind === 'c').pop()?.text || null;
    return { kind: 'mailbox', name, adl, ...addrSpec(spec) };
  }
}

/** Parses an address-list header value (unfolded). Never throws. */
export function parseAddressList(value: string): Address[] {
  return new Parser(lex(value)).list();
}

/**
 * An address list as SEARCH FROM/TO/CC/BCC reads it (like Dovecot, which matches the parsed,
 * re-written addresses, RFC 9051 §6.4.4): `name <local@domain>` or `local@domain` per mailbox,
 * `name: members;` per group, joined by ", "; comments dropped unless one stands in for a missing
 * name; names run through `decodeName` (RFC 2047). Missing parts are left out.
 */
export function addressListText(value: string, decodeName: (name: string) => string = (n) => n): string {
  const mailbox = (m: AddressMailbox): string => {
    const local = m.mailbox === MISSING_MAILBOX ? '' : m.mailbox;
    const host = m.host === MISSING_DOMAIN ? '' : m.host;
    const spec = host ? `${local}@${host}` : local;
    const name = m.name ? decodeName(m.name) : '';
    return name ? `${name} <${spec}>` : spec;
  };
  return parseAddressList(value)
    .map((a) => (a.kind === 'mailbox' ? mailbox(a) : `${decodeName(a.name)}: ${a.members.map(mailbox).join(', ')};`))
    .join(', ');
}
