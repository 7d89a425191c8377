/**
 * IMAP SEARCH over one mailbox (RFC 9051 §6.4.4; MODSEQ RFC 7162 §3.1.5; `$` RFC 5182):
 * flags, UIDs, sequence numbers and MODSEQ from the store's summaries; sizes and dates from the
 * stored messages; string keys (TEXT, BODY, HEADER, FROM, TO, CC, BCC, SUBJECT) from the search
 * index for the messages it has indexed and by reading the others (the index stage runs after
 * the store, so the newest mail may not be indexed yet) — with the same semantics either way
 * (connectors/search/substring.ts), so the result is exact.
 *
 * Keys narrow a candidate set: an AND evaluates its cheap keys first and stops once nothing is
 * left; OR evaluates its right side only on what the left did not match; NOT subtracts. Index
 * queries and message reads are made once per search and only when candidates remain.
 */
import type { SearchKey, SequenceSet } from '../command.ts';
import type { Mailbox, MessageSummary, StoredMessage } from '../../../connectors/store/store.ts';
import { headerLineValues, matchesFields, type SearchFields, type SubstringMatch } from '../../../connectors/search/substring.ts';
import type { MailboxService } from '../../mailbox-service.ts';
import { compareDay, searchDay, sentDay, utcDay } from './dates.ts';
import { readFields } from './message-fields.ts';
import { summaryCacheOf, type MessageFacts, type SummaryCache } from './summary-cache.ts';

export interface SearchMailboxInput {
  readonly service: MailboxService;
  readonly userId: string;
  readonly mailbox: Mailbox;
  /** The session's UIDs in sequence-number order (ascending). */
  readonly uids: readonly number[];
  /** The saved result (`$`, RFC 5182), as UIDs. */
  readonly savedSearch: readonly number[];
  /** The session's \Recent UIDs (RFC 3501 §2.3.2): what RECENT, NEW and OLD test; default none. */
  readonly recent?: ReadonlySet<number>;
  readonly key: SearchKey;
  /** Current time (reserved for relative date keys); default Date.now(). */
  readonly now?: number;
  /** What is kept between searches (summary-cache.ts); default: one cache per service (16 mailboxes). */
  readonly cache?: SummaryCache;
}

/** UIDs of the session's messages that match `key`, ascending. Messages no longer in the store do not match. */
export async function searchMailbox(input: SearchMailboxInput): Promise<number[]> {
  const search = new MailboxSearch(input);
  const universe = await search.universe();
  if (universe.size === 0) return [];
  const matched = [...(await search.evaluate(input.key, universe))];
  // Most keys keep the universe's order (the session's, ascending): sorted only when not.
  for (let i = 1; i < matched.length; i++) if (matched[i] < matched[i - 1]) return matched.sort((a, b) => a - b);
  return matched;
}

type Uids = Set<number>;

class MailboxSearch {
  private summaries: ReadonlyMap<number, MessageSummary> = new Map();
  private seqOf: Map<number, number> | null = null;
  private readonly messages = new Map<number, StoredMessage>();
  private readonly fields = new Map<number, SearchFields>();
  private indexed: Promise<ReadonlySet<number>> | null = null;
  private readonly matches = new Map<string, Promise<Uids>>();
  private readonly lowerFlags = new Map<number, Set<string>>();
  private universeUids: Uids = new Set();
  private readonly cache: SummaryCache;

  constructor(private readonly input: SearchMailboxInput) {
    this.cache = input.cache ?? summaryCacheOf(input.service);
  }

  async universe(): Promise<Uids> {
    this.summaries = await this.cache.summaries(this.input.service.store, this.input.userId, this.input.mailbox);
    this.universeUids = universeOf(this.input.uids, this.summaries);
    return this.universeUids;
  }

  /** The members of `candidates` that match `key`. */
  async evaluate(key: SearchKey, candidates: Uids): Promise<Uids> {
    if (candidates.size === 0) return candidates;
    switch (key.kind) {
      case 'all':
        return candidates;
      case 'and': {
        let left = candidates;
        for (const k of [...key.keys].sort((a, b) => cost(a) - cost(b))) {
          left = await this.evaluate(k, left);
          if (left.size === 0) break;
        }
        return left;
      }
      case 'or': {
        const left = await this.evaluate(key.left, candidates);
        const right = await this.evaluate(key.right, minus(candidates, left));
        return new Set([...left, ...right]);
      }
      case 'not':
        return minus(candidates, await this.evaluate(key.key, candidates));
      case 'flag': {
        const flag = key.flag.toLowerCase();
        // RFC 3501 §6.4.4: \Recent is session state, never stored.
        if (flag === '\\recent') return filter(candidates, (uid) => (this.input.recent?.has(uid) ?? false) === key.set);
        return filter(candidates, (uid) => this.flagsOf(uid).has(flag) === key.set);
      }
      case 'uid':
        return this.inSet(candidates, key.set, false);
      case 'seq':
        return this.inSet(candidates, key.set, true);
      case 'modseq':
        // RFC 7162 §3.1.5: modification sequence equal to or greater than.
        return filter(candidates, (uid) => this.summaries.get(uid)!.modseq >= key.modseq);
      case 'size': {
        const facts = await this.facts(candidates);
        return filter(candidates, (uid) => {
          const size = facts.get(uid)?.size;
          if (size === undefined) return false;
          return key.op === 'larger' ? size > key.size : size < key.size;
        });
      }
      case 'date':
        return key.which === 'internal' ? this.internalDate(key, candidates) : this.sentDate(key, candidates);
      case 'text':
      case 'body':
        return this.substring({ in: key.kind, needle: key.value }, candidates);
      case 'header':
        return this.substring({ in: 'header', field: key.field, needle: key.value }, candidates);
    }
  }

  private flagsOf(uid: number): Set<string> {
    let flags = this.lowerFlags.get(uid);
    if (!flags) {
      flags = new Set(this.summaries.get(uid)!.flags.map((f) => f.toLowerCase()));
      this.lowerFlags.set(uid, flags);
    }
    return flags;
  }

  /** RFC 9051 §9 sequence-set: `*` is the largest number in use; a:b is the same as b:a. */
  private inSet(candidates: Uids, set: SequenceSet, bySeq: boolean): Uids {
    if (set.kind === 'saved') {
      const saved = new Set(this.input.savedSearch);
      return filter(candidates, (uid) => saved.has(uid));
    }
    const uids = this.input.uids;
    if (uids.length === 0) return new Set();
    const star = bySeq ? uids.length : uids[uids.length - 1];
    const ranges = set.ranges.map((r) => {
      const a = r.start === '*' ? star : r.start;
      const b = r.end === '*' ? star : r.end;
      return [Math.min(a, b), Math.max(a, b)] as const;
    });
    const seqOf = bySeq ? this.sequenceNumbers() : null;
    return filter(candidates, (uid) => {
      const n = seqOf ? seqOf.get(uid)! : uid;
      return ranges.some(([lo, hi]) => n >= lo && n <= hi);
    });
  }

  private sequenceNumbers(): Map<number, number> {
    if (!this.seqOf) this.seqOf = new Map(this.input.uids.map((uid, i) => [uid, i + 1]));
    return this.seqOf;
  }

  private async internalDate(key: Extract<SearchKey, { kind: 'date' }>, candidates: Uids): Promise<Uids> {
    const target = searchDay(key.date);
    if (target === null) return new Set();
    const facts = await this.facts(candidates);
    return filter(candidates, (uid) => {
      const m = facts.get(uid);
      return m !== undefined && compareDay(utcDay(m.receivedAt), key.op, target);
    });
  }

  /** The first Date: field's day as written; a message without one has no sent date and never matches. */
  private async sentDate(key: Extract<SearchKey, { kind: 'date' }>, candidates: Uids): Promise<Uids> {
    const target = searchDay(key.date);
    if (target === null) return new Set();
    const facts = await this.facts(candidates);
    const unknown = [...candidates].filter((uid) => facts.get(uid)?.sentDay === undefined);
    if (unknown.length > 0) {
      const { indexed, unindexed } = await this.split(unknown);
      if (indexed.length > 0) {
        const values = await this.input.service.search.fieldValues(this.input.userId, this.input.mailbox.id, 'date');
        for (const uid of indexed) setSentDay(facts, uid, values.get(uid));
      }
      for (const [uid, f] of await this.fieldsOf(unindexed)) setSentDay(facts, uid, headerLineValues(f.headers, 'date'));
    }
    return filter(candidates, (uid) => {
      const day = facts.get(uid)?.sentDay;
      return day !== undefined && day !== null && compareDay(day, key.op, target);
    });
  }

  private async substring(match: SubstringMatch, candidates: Uids): Promise<Uids> {
    const indexedUids = await this.indexedUids();
    if (candidates === this.universeUids && this.cache.covers(this.input.userId, this.input.mailbox.id, candidates)) {
      // Every candidate is indexed (known without walking them): the index's matches in the universe.
      const out = new Set<number>();
      for (const uid of await this.matchUids(match)) if (candidates.has(uid)) out.add(uid);
      return out;
    }
    // Only the unindexed candidates are listed: on a large mailbox that is few or none.
    let indexedCount = 0;
    const unindexed: number[] = [];
    for (const uid of candidates) {
      if (indexedUids.has(uid)) indexedCount += 1;
      else unindexed.push(uid);
    }
    const out = new Set<number>();
    if (indexedCount > 0) {
      const matched = await this.matchUids(match);
      if (matched.size < indexedCount) {
        for (const uid of matched) if (candidates.has(uid) && indexedUids.has(uid)) out.add(uid);
      } else {
        for (const uid of candidates) if (matched.has(uid) && indexedUids.has(uid)) out.add(uid);
      }
    }
    for (const [uid, f] of await this.fieldsOf(unindexed)) if (matchesFields(f, match)) out.add(uid);
    return out;
  }

  private matchUids(match: SubstringMatch): Promise<Uids> {
    const id = JSON.stringify(match);
    let found = this.matches.get(id);
    if (!found) {
      found = this.input.service.search.matchUids(this.input.userId, this.input.mailbox.id, match);
      this.matches.set(id, found);
    }
    return found;
  }

  private facts(uids: Iterable<number>): Promise<Map<number, MessageFacts>> {
    return this.cache.facts(this.input.service.store, this.input.userId, this.input.mailbox.id, uids);
  }

  /** The UIDs of the universe the search index has indexed (asked once per search). */
  private indexedUids(): Promise<ReadonlySet<number>> {
    this.indexed ??= this.cache.indexed(this.input.service.search, this.input.userId, this.input.mailbox.id, this.universeUids);
    return this.indexed;
  }

  private async split(candidates: Iterable<number>): Promise<{ indexed: number[]; unindexed: number[] }> {
    const indexedUids = await this.indexedUids();
    const indexed: number[] = [];
    const unindexed: number[] = [];
    for (const uid of candidates) (indexedUids.has(uid) ? indexed : unindexed).push(uid);
    return { indexed, unindexed };
  }

  /** Fields of messages read from their bytes (each message read once per search). */
  private async fieldsOf(uids: readonly number[]): Promise<Map<number, SearchFields>> {
    const missing = uids.filter((uid) => !this.fields.has(uid));
    if (missing.length > 0) {
      await this.loadMessages(missing);
      const messages = missing.flatMap((uid) => this.messages.get(uid) ?? []);
      for (const [uid, f] of await readFields(this.input.service, messages)) this.fields.set(uid, f);
    }
    return new Map(uids.flatMap((uid) => (this.fields.has(uid) ? [[uid, this.fields.get(uid)!] as const] : [])));
  }

  private async loadMessages(uids: Iterable<number>): Promise<void> {
    const missing = [...uids].filter((uid) => !this.messages.has(uid));
    if (missing.length === 0) return;
    missing.sort((a, b) => a - b);
    for (const m of await this.input.service.store.messagesByUid(this.input.mailbox.id, missing)) this.messages.set(m.uid, m);
  }
}

function setSentDay(facts: Map<number, MessageFacts>, uid: number, values: readonly string[] | undefined): void {
  const f = facts.get(uid);
  if (f) f.sentDay = values && values.length > 0 ? sentDay(values[0]) : null;
}

/** Rough cost of evaluating a key, to order AND's operands. */
function cost(key: SearchKey): number {
  switch (key.kind) {
    case 'all':
    case 'flag':
    case 'uid':
    case 'seq':
    case 'modseq':
      return 0;
    case 'size':
      return 1;
    case 'date':
      return key.which === 'internal' ? 1 : 2;
    case 'text':
    case 'body':
    case 'header':
      return 3;
    case 'not':
      return cost(key.key);
    case 'or':
      return Math.max(cost(key.left), cost(key.right));
    case 'and':
      return key.keys.reduce((max, k) => Math.max(max, cost(k)), 0);
  }
}

/** The universe last built from a session's UID list, with what it was built from. */
interface UniverseMemo {
  readonly summaries: ReadonlyMap<number, MessageSummary>;
  readonly length: number;
  readonly first: number | undefined;
  readonly last: number | undefined;
  readonly uids: Uids;
}

const universes = new WeakMap<readonly number[], UniverseMemo>();

/**
 * The session's UIDs still in the store, as a Set: the same Set again while neither the session's
 * list (a session only appends to it or replaces it) nor the summaries (replaced, never changed in
 * place) changed. Building it cost ~1 ms per SEARCH of a 10,000-message mailbox. Never changed by
 * the evaluation: every key makes a new Set.
 */
function universeOf(uids: readonly number[], summaries: ReadonlyMap<number, MessageSummary>): Uids {
  const memo = universes.get(uids);
  if (memo && memo.summaries === summaries && memo.length === uids.length && memo.first === uids[0] && memo.last === uids[uids.length - 1]) {
    return memo.uids;
  }
  const out = new Set<number>();
  for (const uid of uids) if (summaries.has(uid)) out.add(uid);
  universes.set(uids, { summaries, length: uids.length, first: uids[0], last: uids[uids.length - 1], uids: out });
  return out;
}

function filter(uids: Uids, keep: (uid: number) => boolean): Uids {
  const out = new Set<number>();
  for (const uid of uids) if (keep(uid)) out.add(uid);
  return out;
}

function minus(a: Uids, b: Uids): Uids {
  return filter(a, (uid) => !b.has(uid));
}
