/**
 * THREAD=REFERENCES (RFC 5256 §2.2): parent/child links from Message-ID, References and
 * In-Reply-To, dummies for missing parents pruned, roots grouped by base subject, every set of
 * siblings sorted by sent date. Iterative where depth is unbounded (reply chains can be long).
 */
import { baseSubject } from '../sort/base-subject.ts';
import { compareNodes, type ThreadInput, type ThreadNode } from './thread.ts';

interface Container {
  message: ThreadInput | null;
  parent: Container | null;
  children: Container[];
}

function newContainer(message: ThreadInput | null = null): Container {
  return { message, parent: null, children: [] };
}

/** Whether `ancestor` is `node` or above it: linking `node` as its parent would make a loop. */
function isAncestorOrSelf(ancestor: Container, node: Container): boolean {
  for (let c: Container | null = node; c; c = c.parent) if (c === ancestor) return true;
  return false;
}

function link(parent: Container, child: Container): void {
  child.parent = parent;
  parent.children.push(child);
}

function unlink(child: Container): void {
  const parent = child.parent;
  if (!parent) return;
  parent.children.splice(parent.children.indexOf(child), 1);
  child.parent = null;
}

export function referencesThreads(messages: readonly ThreadInput[]): ThreadNode[] {
  // (1) Containers by Message-ID.
  const table = new Map<string, Container>();
  const all: Container[] = [];
  const lookup = (id: string): Container => {
    let c = table.get(id);
    if (!c) {
      table.set(id, (c = newContainer()));
      all.push(c);
    }
    return c;
  };
  for (const message of messages) {
    // (1)(A) A missing or duplicate Message-ID gets a unique one (\0 cannot be in a header id).
    let container = message.messageId !== null ? table.get(message.messageId) : undefined;
    if (message.messageId !== null && (!container || container.message === null)) {
      container = lookup(message.messageId);
      container.message = message;
    } else {
      container = newContainer(message);
      table.set(`\0${message.order}`, container);
      all.push(container);
    }
    // (1)(B) References (else the first In-Reply-To id) linked in order; existing links stay, no loops.
    // A message naming itself is no reference (it would only make a loop).
    const named = message.references.length > 0 ? message.references : message.inReplyTo.slice(0, 1);
    const refs = named.filter((id) => id !== message.messageId);
    for (let i = 0; i + 1 < refs.length; i++) {
      const parent = lookup(refs[i]);
      const child = lookup(refs[i + 1]);
      if (child.parent === null && !isAncestorOrSelf(child, parent)) link(parent, child);
    }
    // (1)(C) The last reference is the parent (replacing any presumed one), unless that loops.
    unlink(container);
    if (refs.length > 0) {
      const parent = lookup(refs[refs.length - 1]);
      if (!isAncestorOrSelf(container, parent)) link(parent, container);
    }
  }
  // (2) The root set; (3) the id table is no longer needed.
  let roots = all.filter((c) => c.parent === null);
  // (4) Prune dummies, children before parents.
  for (const node of postOrder(roots)) node.children = pruneLevel(node.children, false);
  roots = pruneLevel(roots, true);
  // (5) Sort the root set by sent date (dummies by their first child, children sorted first).
  sortAll(roots);
  // (6) Group the roots by base subject.
  roots = groupBySubject(roots);
  // (7) Sort every set of siblings, deepest first; dummies sort by their first child.
  sortAll(roots);
  return roots.map(toNode);
}

/** (4) A dummy without children goes; one with children is replaced by them, except at the root with several. */
function pruneLevel(list: readonly Container[], atRoot: boolean): Container[] {
  const out: Container[] = [];
  for (const c of list) {
    if (c.message !== null) {
      out.push(c);
    } else if (c.children.length > 0 && (!atRoot || c.children.length === 1)) {
      for (const child of c.children) {
        child.parent = atRoot ? null : c.parent;
        out.push(child);
      }
    } else if (c.children.length > 0) {
      out.push(c);
    }
  }
  return out;
}

function postOrder(roots: readonly Container[]): Container[] {
  const order: Container[] = [];
  const stack = [...roots];
  while (stack.length > 0) {
    const c = stack.pop() as Container;
    order.push(c);
    for (const child of c.children) stack.push(child);
  }
  return order.reverse();
}

function sortAll(roots: Container[]): void {
  for (const node of postOrder(roots)) node.children.sort(byDate);
  roots.sort(byDate);
}

function byDate(a: Container, b: Container): number {
  return compareNodes(a as ThreadNode, b as ThreadNode);
}

function subjectOf(c: Container): { key: string; isReply: boolean } {
  const message = c.message ?? c.children[0]?.message ?? null;
  return message ? baseSubject(message.subject) : { key: '', isReply: false };
}

/** (6) RFC 5256 §2.2 step 6: roots with the same base subject become one thread. */
function groupBySubject(roots: Container[]): Container[] {
  // (6)(B) One root per base subject: dummies first, then non-replies.
  const table = new Map<string, Container>();
  for (const root of roots) {
    const { key, isReply } = subjectOf(root);
    if (key === '') continue;
    const entry = table.get(key);
    if (
      !entry ||
      (root.message === null && entry.message !== null) ||
      (root.message !== null && entry.message !== null && subjectOf(entry).isReply && !isReply)
    ) {
      table.set(key, root);
    }
  }
  // (6)(C) Merge each other root into its subject's table entry.
  const slots: (Container | null)[] = [...roots];
  const slotOf = new Map<Container, number>(roots.map((c, i) => [c, i]));
  for (let i = 0; i < roots.length; i++) {
    const root = roots[i];
    if (slots[i] !== root) continue;
    const { key, isReply } = subjectOf(root);
    if (key === '') continue;
    const entry = table.get(key) as Container;
    if (entry === root) continue;
    if (entry.message === null && root.message === null) {
      for (const child of root.children) link(entry, child);
      root.children = [];
    } else if (entry.message === null) {
      link(entry, root);
    } else if (root.message === null) {
      // Unreachable after (6)(B), which prefers dummies; kept for completeness.
      slots[slotOf.get(entry) as number] = null;
      link(root, entry);
      table.set(key, root);
      continue;
    } else if (isReply && !subjectOf(entry).isReply) {
      link(entry, root);
    } else {
      const dummy = newContainer();
      const at = slotOf.get(entry) as number;
      link(dummy, entry);
      link(dummy, root);
      slots[at] = dummy;
      slotOf.set(dummy, at);
      table.set(key, dummy);
    }
    slots[i] = null;
  }
  return slots.filter((c): c is Container => c !== null);
}

function toNode(root: Container): ThreadNode {
  // Containers already have the ThreadNode shape; drop the parent links for callers.
  for (const node of postOrder([root])) node.parent = null;
  return root as ThreadNode;
}
