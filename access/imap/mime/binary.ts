/**
 * BINARY[<part>] content (RFC 3516 §4.2, RFC 9051 §6.4.5): the part's body with its
 * Content-Transfer-Encoding undone. An encoding we cannot decode is `[UNKNOWN-CTE]`
 * (RFC 3516 §5); a part that does not exist is NONEXISTENT. BINARY[] is the whole message.
 */
import { findPart } from './section.ts';
import type { MimePart } from './structure.ts';
import { decodeTransfer } from './transfer.ts';

export type BinaryResult = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly reason: 'UNKNOWN-CTE' | 'NONEXISTENT' };

export function binaryContent(raw: Buffer, root: MimePart, part: readonly number[]): BinaryResult {
  if (part.length === 0) return { ok: true, bytes: raw };
  const target = findPart(root, part);
  if (!target) return { ok: false, reason: 'NONEXISTENT' };
  const bytes = decodeTransfer(raw.subarray(target.bodyStart, target.bodyEnd), target.encoding);
  return bytes ? { ok: true, bytes } : { ok: false, reason: 'UNKNOWN-CTE' };
}
