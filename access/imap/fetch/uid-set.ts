/** Whether a UID falls in a UID set as sent, known or not (VANISHED (EARLIER), RFC 7162 §3.2.6). */
import type { SequenceSet } from '../command.ts';

/** `*` stands for `maxUid`; `$` for the saved search result (RFC 5182). */
export function uidSetHas(set: SequenceSet, uid: number, maxUid: number, saved: readonly number[]): boolean {
  if (set.kind === 'saved') return saved.includes(uid);
  for (const range of set.ranges) {
    const a = range.start === '*' ? maxUid : range.start;
    const b = range.end === '*' ? maxUid : range.end;
    if (uid >= Math.min(a, b) && uid <= Math.max(a, b)) return true;
  }
  return false;
}
