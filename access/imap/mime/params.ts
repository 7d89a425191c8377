/**
 * Parameterised header values: Content-Type (RFC 2045 §5.1) and Content-Disposition
 * (RFC 2183), with RFC 2231 continuations (`name*0`, `name*1`) and charsets (`name*=utf-8''%E2%82%AC`)
 * decoded. Lenient: unquoted values with spaces, missing `=`, stray `;`, comments.
 */
import { decodeCharset } from './charset.ts';

export interface ParamValue {
  /** The value before the first `;`, comments removed, trimmed (e.g. `text/plain`, `attachment`). */
  readonly value: string;
  /** Parameter names lower-cased. */
  readonly params: Record<string, string>;
}

/** Removes RFC 5322 comments `(…)` outside quoted strings; linear time. */
export function stripComments(text: string): string {
  if (!text.includes('(')) return text;
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      out += c;
      if (c === '\\' && i + 1 < text.length) out += text[++i];
      else if (c === '"') quoted = false;
    } else if (c === '"' && depth === 0) {
      quoted = true;
      out += c;
    } else if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}

/** Splits at `;` outside quoted strings. */
function splitParams(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ';') {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unquote(text: string): string {
  if (!text.startsWith('"')) return text;
  let out = '';
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) out += text[++i];
    else if (c === '"') break;
    else out += c;
  }
  return out;
}

function percentDecode(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else for (const b of Buffer.from(text[i], 'utf8')) bytes.push(b);
  }
  return Buffer.from(bytes);
}

interface Segment {
  readonly index: number;
  readonly extended: boolean;
  readonly text: string;
}

export function parseParamValue(header: string): ParamValue {
  const parts = splitParams(stripComments(header));
  const value = parts[0].trim();
  const params: Record<string, string> = {};
  const continued = new Map<string, Segment[]>();
  for (const part of parts.slice(1)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    if (!name || name.includes(' ')) continue;
    const text = unquote(part.slice(eq + 1).trim());
    // RFC 2231 §3 and §4: name*N, name*N*, name*.
    const m = /^(.+?)\*(?:(\d{1,3})(\*)?)?$/.exec(name);
    if (!m) {
      if (!(name in params)) params[name] = text;
      continue;
    }
    const extended = m[2] === undefined || m[3] !== undefined;
    const segments = continued.get(m[1]) ?? [];
    segments.push({ index: m[2] === undefined ? 0 : Number(m[2]), extended, text });
    continued.set(m[1], segments);
  }
  for (const [name, segments] of continued) {
    segments.sort((a, b) => a.index - b.index);
    let charset = 'us-ascii';
    const chunks: Buffer[] = [];
    segments.forEach((segment, i) => {
      let text = segment.text;
      if (segment.extended && i === 0) {
        // charset'language'value (RFC 2231 §4)
        const first = text.indexOf("'");
        const second = first < 0 ? -1 : text.indexOf("'", first + 1);
        if (second >= 0) {
          charset = text.slice(0, first) || charset;
          text = text.slice(second + 1);
        }
      }
      chunks.push(segment.extended ? percentDecode(text) : Buffer.from(text, 'utf8'));
    });
    const bytes = Buffer.concat(chunks);
    const ascii = charset.toLowerCase() === 'us-ascii' || charset.toLowerCase() === 'ascii';
    params[name] = ascii ? bytes.toString('utf8') : decodeCharset(bytes, charset);
  }
  return { value, params };
}
