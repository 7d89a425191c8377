/**
 * What SEARCH needs of recently searched mailboxes, kept between searches so that one on a
 * mailbox of 10,000 messages does not re-read it all every time:
 *
 * - the store's summaries (UID, MODSEQ, flags), brought up to date with `store.changes()`
 *   since the MODSEQ they were read at (RFC 7162: every delivery, flag change, copy in and
 *   expunge raises the mailbox's MODSEQ, so nothing is missed; a new UIDVALIDITY reloads);
 * - the UIDs the search index has indexed. A message, once indexed in a mailbox, stays so
 *   while it is there (moves and expunges take it out of the mailbox too), so only when a
 *   search meets a UID not known to be indexed is the index asked again.
 *
 * A cached map is never changed in place (a search in progress keeps a consistent view).
 * SELECT and EXAMINE read their sequence-number map from the same summaries
 * (`summaryCacheOf`), so a SELECT of a large mailbox costs a delta query, not a full read.
 */
import type { MailStore, MessageSummary } from '../../../connectors/store/store.ts';
import type { SearchIndex } from '../../../connectors/search/search.ts';
import type { MailboxService } from '../../mailbox-service.ts';

/** What never changes about a message in a mailbox (RFC 9051 §2.3.3 internal date, §2.3.4 size; its Date: field). */
export interface MessageFacts {
  readonly size: number;
  readonly receivedAt: number;
  /** The sent day (dates.ts `sentDay`), once some search needed it; null: no Date: field. */
  sentDay?: number | null;
}

interface Entry {
  readonly userId: string;
  readonly uidValidity: number;
  modseq: number;
  summaries: ReadonlyMap<number, MessageSummary>;
  indexed: ReadonlySet<number>;
  /** Added to, never changed (a message's facts are fixed); expunged UIDs are dropped. */
  readonly facts: Map<number, MessageFacts>;
  /** UID sets (a session's universe, `evaluate.ts`) found wholly in `indexed`: not checked again. */
  readonly covered: WeakSet<object>;
}

/** Above this many changed messages, reading all summaries again is cheaper than the delta. */
const MAX_DELTA = 2000;

export class SummaryCache {
  private readonly entries = new Map<number, Entry>();

  constructor(private readonly capacity = 16) {}

  /** The mailbox's summaries by UID, as of now. */
  async summaries(store: MailStore, userId: string, mailbox: { id: number; uidValidity: number }): Promise<ReadonlyMap<number, MessageSummary>> {
    const entry = this.entries.get(mailbox.id);
    if (entry && entry.userId === userId && entry.uidValidity === mailbox.uidValidity) {
      this.touch(mailbox.id, entry);
      const delta = await store.changes(mailbox.id, entry.modseq);
      if (delta.changed.length === 0 && delta.expunged.length === 0) return entry.summaries;
      if (delta.changed.length <= MAX_DELTA) {
        const next = new Map(entry.summaries);
        for (const m of delta.changed) next.set(m.uid, { uid: m.uid, modseq: m.modseq, flags: m.flags });
        for (const uid of delta.expunged) {
          next.delete(uid);
          entry.facts.delete(uid);
        }
        entry.summaries = next;
        entry.modseq = Math.max(entry.modseq, delta.highestModseq);
        return next;
      }
    }
    // Read the MODSEQ first: a change in between is applied again next time (idempotent).
    const { highestModseq } = await store.changes(mailbox.id, Number.MAX_SAFE_INTEGER);
    const summaries = new Map((await store.summaries(mailbox.id)).map((s) => [s.uid, s] as const));
    const fresh: Entry = { userId, uidValidity: mailbox.uidValidity, modseq: highestModseq, summaries, indexed: new Set(), facts: new Map(), covered: new WeakSet() };
    this.touch(mailbox.id, fresh);
    return summaries;
  }

  /** The UIDs among `uids` that the index has indexed (asks the index only about unknown ones). */
  async indexed(search: SearchIndex, userId: string, mailboxId: number, uids: Iterable<number>): Promise<ReadonlySet<number>> {
    const mine = this.entryOf(userId, mailboxId);
    const known = mine ? mine.indexed : new Set<number>();
    if (mine?.covered.has(uids)) return known; // indexed stays indexed while in the mailbox
    for (const uid of uids) {
      if (known.has(uid)) continue;
      const indexed = await search.indexedUids(userId, mailboxId);
      if (mine) mine.indexed = indexed;
      return indexed;
    }
    mine?.covered.add(uids);
    return known;
  }

  /** Whether `indexed` found every UID of this very set indexed (a universe, checked once). */
  covers(userId: string, mailboxId: number, uids: object): boolean {
    return this.entryOf(userId, mailboxId)?.covered.has(uids) ?? false;
  }

  /**
   * Size and internal date of these messages (missing ones read from the store), by UID. The
   * map is the cache's own, for `summaries`' entry of this mailbox; callers may set `sentDay`.
   */
  async facts(store: MailStore, userId: string, mailboxId: number, uids: Iterable<number>): Promise<Map<number, MessageFacts>> {
    const facts = this.entryOf(userId, mailboxId)?.facts ?? new Map<number, MessageFacts>();
    const missing: number[] = [];
    for (const uid of uids) if (!facts.has(uid)) missing.push(uid);
    if (missing.length > 0) {
      missing.sort((a, b) => a - b);
      for (const m of await store.messagesByUid(mailboxId, missing)) facts.set(m.uid, { size: m.size, receivedAt: m.receivedAt });
    }
    return facts;
  }

  /** This user's entry of the mailbox, if cached. */
  private entryOf(userId: string, mailboxId: number): Entry | undefined {
    const entry = this.entries.get(mailboxId);
    return entry?.userId === userId ? entry : undefined;
  }

  private touch(mailboxId: number, entry: Entry): void {
    this.entries.delete(mailboxId);
    this.entries.set(mailboxId, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}

const caches = new WeakMap<MailboxService, SummaryCache>();

/** The summary cache of this process's sessions over `service` (16 mailboxes). */
export function summaryCacheOf(service: MailboxService): SummaryCache {
  let cache = caches.get(service);
  if (!cache) {
    cache = new SummaryCache();
    caches.set(service, cache);
  }
  return cache;
}
