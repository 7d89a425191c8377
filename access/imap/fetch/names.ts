/**
 * Names of FETCH response items as the client asked for them (RFC 9051 §7.5.2): the response
 * echoes the section (`BODY[1.HEADER.FIELDS (FROM TO)]`) and only the origin of a partial
 * (`BODY[]<0>`); BINARY and BINARY.SIZE likewise (RFC 3516 §4.2).
 */
import type { Partial, Section } from '../command.ts';

/** An astring as an atom when it can be one, else quoted (RFC 9051 §9 astring). */
function astring(s: string): string {
  return /^[!#$&'+-Z^-z|~]+$/.test(s) && !s.includes('\\') ? s : `"${s.replace(/["\\]/g, '\\$&')}"`;
}

export function sectionSpec(section: Section): string {
  const parts: string[] = [];
  if (section.part.length > 0) parts.push(section.part.join('.'));
  if (section.text !== null) {
    let text: string = section.text;
    if (section.text === 'HEADER.FIELDS' || section.text === 'HEADER.FIELDS.NOT') text += ` (${section.fields.map(astring).join(' ')})`;
    parts.push(text);
  }
  return parts.join('.');
}

export function partialOrigin(partial: Partial | null): string {
  return partial ? `<${partial.offset}>` : '';
}

export function bodySectionName(section: Section, partial: Partial | null): string {
  return `BODY[${sectionSpec(section)}]${partialOrigin(partial)}`;
}

export function binaryName(kind: 'BINARY' | 'BINARY.SIZE', part: readonly number[], partial: Partial | null = null): string {
  return `${kind}[${part.join('.')}]${partialOrigin(partial)}`;
}
