/**
 * Shared shapes of the THREAD algorithms (RFC 5256 §2.2, §2.3) and the wire form of their
 * result (RFC 5256 §4 thread-list). The algorithms are pure: the handler gathers the facts.
 */

export interface ThreadInput {
  /** The number the reply shows: a sequence number, or a UID for UID THREAD. */
  readonly id: number;
  /** Position in the mailbox (sequence number): breaks ties between equal sent dates (RFC 5256 §2.2). */
  readonly order: number;
  /** Sent date (Date: header, else the internal date), ms since epoch (RFC 5256 §2.2). */
  readonly sentDate: number;
  /** Subject, RFC 2047 words decoded. */
  readonly subject: string;
  /** Message-ID without angle brackets, or null. */
  readonly messageId: string | null;
  /** References' message ids, in order, without angle brackets. */
  readonly references: readonly string[];
  /** In-Reply-To's message ids, without angle brackets. */
  readonly inReplyTo: readonly string[];
}

/** A thread node: a message, or a dummy (`message` null) standing for a missing parent. */
export interface ThreadNode {
  readonly message: ThreadInput | null;
  readonly children: ThreadNode[];
}

/** RFC 5256 §4: `(1 2 (3)(4 5))` — a chain of single children flat, siblings parenthesized. */
export function formatThreads(roots: readonly ThreadNode[]): string {
  let out = '';
  for (const root of roots) out += `(${members(root)})`;
  return out;
}

function members(node: ThreadNode): string {
  const parts: string[] = [];
  let current: ThreadNode = node;
  // Iterate down single-child chains so deep threads do not recurse once per message.
  for (;;) {
    if (current.message) parts.push(String(current.message.id));
    if (current.children.length === 1) {
      current = current.children[0];
      continue;
    }
    if (current.children.length > 1) parts.push(current.children.map((child) => `(${members(child)})`).join(''));
    break;
  }
  return parts.join(' ');
}

/** Earlier sent date first, then lower position (RFC 5256 §2.2 "sent date", ties by sequence). */
export function bySentDate(a: ThreadInput, b: ThreadInput): number {
  return a.sentDate - b.sentDate || a.order - b.order;
}

/** The message that stands for a node when sorting: itself, or a dummy's first child's (RFC 5256 §2.2 step 5). */
export function representative(node: ThreadNode): ThreadInput | null {
  let current: ThreadNode | undefined = node;
  while (current && !current.message) current = current.children[0];
  return current ? current.message : null;
}

export function compareNodes(a: ThreadNode, b: ThreadNode): number {
  const ra = representative(a);
  const rb = representative(b);
  if (!ra || !rb) return ra ? -1 : rb ? 1 : 0;
  return bySentDate(ra, rb);
}
