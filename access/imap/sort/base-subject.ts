/**
 * The base subject of RFC 5256 §2.1, used by SORT SUBJECT and both THREAD algorithms: the
 * subject with reply/forward prefixes ("Re:", "Fwd:", "[list]"), "(fwd)" trailers and
 * "[fwd: …]" wrapping removed. `isReply` tells whether anything of a reply or forward was
 * removed (RFC 5256 §2.2 step 6 prefers the non-reply message as a thread's root).
 */

export interface BaseSubject {
  /** The base subject, ASCII letters upper-cased for i;ascii-casemap comparison (RFC 5256 §2.1, RFC 4790 §9.2). */
  readonly key: string;
  readonly isReply: boolean;
}

// RFC 5256 §5: subj-blob = "[" *BLOBCHAR "]" *WSP; subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
const BLOB = /^\[[^[\]]*\][ \t]*/;
const REFWD = /^(?:re|fwd?)[ \t]*(?:\[[^[\]]*\][ \t]*)?:/i;
const TRAILER = /(?:\(fwd\)|[ \t])$/i;

/** RFC 5256 §2.1: `subject` already decoded from RFC 2047 encoded words (step 1). */
export function baseSubject(subject: string): BaseSubject {
  // (1) tabs and line breaks to spaces, runs of spaces to one.
  let s = subject.replace(/[\r\n\t]+/g, ' ').replace(/ {2,}/g, ' ');
  let isReply = false;
  for (;;) {
    // (2) remove trailers "(fwd)" and white space, repeatedly.
    for (let m = TRAILER.exec(s); m; m = TRAILER.exec(s)) {
      if (m[0].length > 1) isReply = true;
      s = s.slice(0, s.length - m[0].length);
    }
    // (5) repeat (3) and (4) until nothing changes.
    for (let changed = true; changed; ) {
      changed = false;
      // (3) remove leaders: white space, or blobs followed by "re:"/"fw:"/"fwd:".
      for (;;) {
        const ws = /^[ \t]+/.exec(s);
        if (ws) {
          s = s.slice(ws[0].length);
          changed = true;
          continue;
        }
        const leader = subjLeader(s);
        if (leader === 0) break;
        s = s.slice(leader);
        isReply = true;
        changed = true;
      }
      // (4) a leading blob goes unless that would leave the base subject empty.
      const blob = BLOB.exec(s);
      if (blob && blob[0].length < s.length) {
        s = s.slice(blob[0].length);
        changed = true;
      }
    }
    // (6) "[fwd:" subject "]": unwrap and start again at (2).
    if (s.length >= 6 && s.slice(0, 5).toLowerCase() === '[fwd:' && s.endsWith(']')) {
      s = s.slice(5, -1);
      isReply = true;
      continue;
    }
    break;
  }
  return { key: s.replace(/[a-z]+/g, (m) => m.toUpperCase()), isReply };
}

/** Length of a subj-leader with a subj-refwd at the start of `s` (`*subj-blob subj-refwd`), 0 if none. */
function subjLeader(s: string): number {
  let pos = 0;
  for (;;) {
    const refwd = REFWD.exec(s.slice(pos));
    if (refwd) return pos + refwd[0].length;
    const blob = BLOB.exec(s.slice(pos));
    if (!blob) return 0;
    pos += blob[0].length;
  }
}
