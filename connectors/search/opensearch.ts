/**
 * The distributed search index on OpenSearch (`ops/engines/opensearch.sh` starts one node),
 * through `@opensearch-project/opensearch`. One index (default `sluice-mail`) holds every
 * user's mail, each document routed by its owner (user id, lowercased), so a user's queries
 * go to one shard; the document id is the `messageKey`, so indexing a message again replaces it
 * (idempotent sink). Mapping and analyzers: opensearch-mapping.ts (explicit, `dynamic: strict`).
 *
 * `search` (words): one `match_phrase_prefix` per term on the field's `sluice_words` analysis,
 * or a `multi_match` of type `phrase_prefix` over the six word fields for `text` — the value is
 * analyzed text, so query syntax in it is literal; the last word is a prefix. Terms are AND-ed,
 * hits ordered by mailbox and UID like SQLite's.
 * `matchUids`, `indexedUids`, `fieldValues`: trigram candidates, exact check (opensearch-substring.ts).
 *
 * Near-real-time: OpenSearch makes writes searchable at the next refresh. Every write here
 * (`index`, `remove`, `relocate`, `copy`) is one bulk request with `refresh=wait_for` by default:
 * it resolves once the write is durable (translog fsynced per request, OpenSearch's default)
 * *and* visible to searches, which the contract needs (read-your-writes: the IMAP server reads
 * right after the store and index stages apply a command). `wait_for` joins the periodic refresh
 * (`refreshInterval`, default 1s) instead of forcing one per batch, so many writers cost one
 * refresh; `refresh: 'true'` forces it (lower latency, more small segments).
 *
 * `remove`, `relocate` and `copy` know only keys, not owners, so they first find the documents
 * by `key` across the shards (one search per batch) and then address each with its routing;
 * a moved or copied document is written whole again from its `_source` (see opensearch-mapping.ts).
 * The store stage is the single writer of a user's mailbox, so nothing changes a document
 * between that search and the write.
 * A message's key never changes owner (keys derive from the ingress record and the recipient),
 * so `index` writes without looking first.
 */
import { Client } from '@opensearch-project/opensearch';
import type { DocumentCopy, Relocation, SearchDocument, SearchField, SearchHit, SearchIndex, SearchQuery } from './search.ts';
import type { SubstringMatch } from './substring.ts';
import { checkHealth, type EngineHealth } from '../health.ts';
import { headerFieldName, headerLineValues, searchFields } from './substring.ts';
import { indexBody, indexedDocument, MAPPING_VERSION, routingOf, storedDocument, type StoredDocument } from './opensearch-mapping.ts';
import { candidateMatches, hasField, substringPlan, type QueryClause } from './opensearch-substring.ts';

export interface OpenSearchSearchIndexOptions {
  /** e.g. `http://127.0.0.1:19200`. */
  readonly node: string;
  /** The index (created with the mapping when missing); default `sluice-mail`. */
  readonly index?: string;
  /** Primary shards of a new index; default 1. */
  readonly shards?: number;
  /** Replicas of a new index; default 0 (the one-node stack; a cluster wants 1 or more). */
  readonly replicas?: number;
  /** `index.refresh_interval` of a new index; default `1s`. */
  readonly refreshInterval?: string;
  /** How writes become visible before they resolve; default `wait_for` (see the header). */
  readonly refresh?: 'wait_for' | 'true';
  /** Bulk requests are cut at about this many bytes; default 16 MiB (OpenSearch refuses over 100 MB). */
  readonly bulkBytes?: number;
  /** Per-request timeout; default 30 s. */
  readonly requestTimeoutMs?: number;
}

const WORD_FIELDS: Record<Exclude<SearchField, 'text'>, string> = {
  from: 'from',
  to: 'to',
  cc: 'cc',
  subject: 'subject',
  body: 'body',
  attachments: 'attachments',
};
/** Prefix expansions of a last word longer than the indexed prefixes (PREFIX_MAX_CHARS). */
const MAX_EXPANSIONS = 1000;
const PAGE = 1000;

/** One bulk action: its NDJSON lines and a guess at their size. */
interface BulkOp {
  readonly lines: readonly object[];
  readonly bytes: number;
}

interface Hit {
  readonly _id: string;
  readonly _routing?: string;
  readonly _source?: Partial<StoredDocument>;
  readonly sort?: SortValue[];
}
type SortValue = boolean | number | string | undefined;

interface BulkItemResult {
  readonly status?: number;
  readonly error?: { type?: string; reason?: string };
}

export class OpenSearchSearchIndex implements SearchIndex {
  private readonly client: Client;
  private readonly name: string;
  private readonly refresh: 'wait_for' | 'true';
  private readonly bulkBytes: number;
  private closed = false;

  private constructor(private readonly options: OpenSearchSearchIndexOptions) {
    this.name = options.index ?? 'sluice-mail';
    this.refresh = options.refresh ?? 'wait_for';
    this.bulkBytes = options.bulkBytes ?? 16 * 1024 * 1024;
    this.client = new Client({ node: options.node, requestTimeout: options.requestTimeoutMs ?? 30_000, maxRetries: 2 });
  }

  /** Connects and creates the index when missing; refuses an index of another mapping version. */
  static async open(options: OpenSearchSearchIndexOptions): Promise<OpenSearchSearchIndex> {
    const index = new OpenSearchSearchIndex(options);
    try {
      await index.ensureIndex();
    } catch (error) {
      await index.client.close();
      throw error;
    }
    return index;
  }

  async index(docs: readonly SearchDocument[]): Promise<void> {
    this.assertOpen();
    await this.bulk(docs.map((doc) => this.indexOp(storedDocument(doc))));
  }

  async remove(messageKeys: readonly string[]): Promise<void> {
    this.assertOpen();
    const found = await this.locate(messageKeys, false);
    await this.bulk([...found.values()].map((hit) => ({ lines: [{ delete: { _index: this.name, _id: hit._id, routing: hit._routing } }], bytes: 256 })));
  }

  async search(query: SearchQuery): Promise<SearchHit[]> {
    this.assertOpen();
    const must: QueryClause[] = [];
    for (const term of query.terms) {
      if (term.value.trim() === '') continue;
      if (term.field === 'text') {
        must.push({ multi_match: { query: term.value, type: 'phrase_prefix', fields: Object.values(WORD_FIELDS), max_expansions: MAX_EXPANSIONS } });
        continue;
      }
      const field = WORD_FIELDS[term.field];
      if (field === undefined) throw new Error(`unknown search field: ${String(term.field)}`);
      must.push({ match_phrase_prefix: { [field]: { query: term.value, max_expansions: MAX_EXPANSIONS } } });
    }
    const userId = routingOf(query.userId);
    const filter: QueryClause[] = [{ term: { user_id: userId } }];
    if (query.mailboxId !== undefined) filter.push({ term: { mailbox_id: query.mailboxId } });
    const hits: SearchHit[] = [];
    const limit = query.limit ?? Infinity;
    if (limit <= 0) return hits;
    for await (const hit of this.scan(userId, { bool: { filter, must } }, ['key', 'mailbox_id', 'uid'], limit)) {
      const s = hit._source ?? {};
      hits.push({ messageKey: s.key ?? hit._id, mailboxId: Number(s.mailbox_id), uid: Number(s.uid) });
    }
    return hits;
  }

  async matchUids(userId: string, mailboxId: number, match: SubstringMatch): Promise<Set<number>> {
    this.assertOpen();
    const out = new Set<number>();
    const plan = substringPlan(match);
    if (plan === null) return out;
    const routing = routingOf(userId);
    for await (const hit of this.scan(routing, this.mailboxQuery(routing, mailboxId, plan.clauses), plan.source)) {
      const doc = hit._source ?? {};
      if (candidateMatches(doc, match)) out.add(Number(doc.uid));
    }
    return out;
  }

  async indexedUids(userId: string, mailboxId: number): Promise<Set<number>> {
    this.assertOpen();
    const routing = routingOf(userId);
    const out = new Set<number>();
    for await (const hit of this.scan(routing, this.mailboxQuery(routing, mailboxId, []), ['uid'])) out.add(Number(hit._source?.uid));
    return out;
  }

  async fieldValues(userId: string, mailboxId: number, field: string): Promise<Map<number, string[]>> {
    this.assertOpen();
    const out = new Map<number, string[]>();
    const name = headerFieldName(field);
    if (name === null) return out;
    const routing = routingOf(userId);
    for await (const hit of this.scan(routing, this.mailboxQuery(routing, mailboxId, [hasField(name)]), ['uid', 'headers'])) {
      const doc = hit._source ?? {};
      const values = headerLineValues(searchFields(doc.headers ?? '', '', '').headers, name);
      if (values.length > 0) out.set(Number(doc.uid), values);
    }
    return out;
  }

  async relocate(moves: readonly Relocation[]): Promise<void> {
    this.assertOpen();
    const found = await this.locate(moves.map((m) => m.messageKey), true);
    const ops: BulkOp[] = [];
    for (const m of moves) {
      const hit = found.get(m.messageKey);
      if (hit) ops.push(this.placed(hit, m.messageKey, m.mailboxId, m.uid));
    }
    await this.bulk(ops);
  }

  async copy(copies: readonly DocumentCopy[]): Promise<void> {
    this.assertOpen();
    const found = await this.locate(copies.map((c) => c.fromKey), true);
    const ops: BulkOp[] = [];
    for (const c of copies) {
      const hit = found.get(c.fromKey);
      if (hit) ops.push(this.placed(hit, c.toKey, c.mailboxId, c.uid)); // toKey = fromKey: a move
    }
    await this.bulk(ops);
  }

  /** The index's health (cluster health API): red — a primary shard not allocated — is not ok. */
  health(): Promise<EngineHealth> {
    return checkHealth('opensearch', async () => {
      this.assertOpen();
      const { body } = await this.client.cluster.health({ index: this.name, timeout: '2s' });
      if (body.status === 'red') throw new Error(`index ${this.name} is red`);
      return `index ${body.status}`;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('search index is closed');
  }

  private async ensureIndex(): Promise<void> {
    const exists = await this.client.indices.exists({ index: this.name });
    if (!exists.body) {
      const body = indexBody({
        shards: this.options.shards ?? 1,
        replicas: this.options.replicas ?? 0,
        refreshInterval: this.options.refreshInterval ?? '1s',
      });
      try {
        await this.client.indices.create({ index: this.name, body, wait_for_active_shards: 1 });
      } catch (error) {
        if (errorType(error) !== 'resource_already_exists_exception') throw error; // another process made it first
      }
    }
    const mapping = await this.client.indices.getMapping({ index: this.name });
    for (const [concrete, value] of Object.entries(mapping.body as Record<string, { mappings?: { _meta?: { sluice_mapping?: unknown } } }>)) {
      const version = value.mappings?._meta?.sluice_mapping;
      if (version !== MAPPING_VERSION) {
        throw new Error(`OpenSearch index ${concrete} has mapping version ${String(version)}, not ${MAPPING_VERSION}: reindex it or pick another index name`);
      }
    }
  }

  /** The IMAP-searchable documents of one mailbox, narrowed by `clauses`. */
  private mailboxQuery(routing: string, mailboxId: number, clauses: readonly QueryClause[]): QueryClause {
    return { bool: { filter: [{ term: { user_id: routing } }, { term: { mailbox_id: mailboxId } }, { term: { imap: true } }, ...clauses] } };
  }

  /**
   * The bulk operation writing a found document (with `_source`) as `key` at a new place, whole:
   * a partial update would rebuild it from `_source`, which lacks the trigram columns.
   */
  private placed(hit: Hit, key: string, mailboxId: number, uid: number): BulkOp {
    return this.indexOp({ ...(hit._source as StoredDocument), key, mailbox_id: mailboxId, uid });
  }

  /** The documents of these keys, wherever they are routed (with `_source` when asked). */
  private async locate(keys: readonly string[], withSource: boolean): Promise<Map<string, Hit>> {
    const found = new Map<string, Hit>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += PAGE) {
      const chunk = unique.slice(i, i + PAGE);
      const response = await this.client.search({
        index: this.name,
        body: { query: { terms: { key: chunk } }, size: chunk.length, _source: withSource, track_total_hits: false },
      });
      for (const hit of response.body.hits.hits as Hit[]) found.set(hit._id, hit);
    }
    return found;
  }

  /** Every hit of a query on one routing value, in mailbox/UID order, page by page (search_after). */
  private async *scan(routing: string, query: QueryClause, source: readonly string[], limit = Infinity): AsyncGenerator<Hit> {
    let after: SortValue[] | undefined;
    let seen = 0;
    for (;;) {
      const size = Math.min(PAGE, limit - seen);
      const response = await this.client.search({
        index: this.name,
        routing,
        body: {
          query,
          size,
          sort: [{ mailbox_id: 'asc' }, { uid: 'asc' }, { key: 'asc' }],
          _source: [...source],
          track_total_hits: false,
          ...(after ? { search_after: after } : {}),
        },
      });
      const hits = response.body.hits.hits as Hit[];
      for (const hit of hits) yield hit;
      seen += hits.length;
      if (hits.length < size || seen >= limit) return;
      after = hits[hits.length - 1].sort;
    }
  }

  /**
   * Bulk requests (none when empty), each of about `bulkBytes` at most, in order; any failed
   * item fails the call. Each request waits for its refresh (see the header).
   */
  private async bulk(ops: readonly BulkOp[]): Promise<void> {
    let body: object[] = [];
    let bytes = 0;
    for (const op of ops) {
      if (body.length > 0 && bytes + op.bytes > this.bulkBytes) {
        await this.bulkRequest(body);
        body = [];
        bytes = 0;
      }
      body.push(...op.lines);
      bytes += op.bytes;
    }
    if (body.length > 0) await this.bulkRequest(body);
  }

  private async bulkRequest(body: object[]): Promise<void> {
    const response = await this.client.bulk({ body, refresh: this.refresh });
    if (!response.body.errors) return;
    for (const item of response.body.items as Record<string, BulkItemResult>[]) {
      for (const [action, result] of Object.entries(item)) {
        if (result.error) {
          throw new Error(`OpenSearch bulk ${action} failed (${result.status ?? '?'}): ${result.error.type}: ${result.error.reason}`);
        }
      }
    }
  }

  private indexOp(doc: StoredDocument): BulkOp {
    const text = doc.headers.length + doc.body.length + doc.attachments.length + doc.subject.length + doc.from.length + doc.to.length + doc.cc.length;
    // The raw fields and their folded twins in `sub`, as JSON (UTF-16 length, a fair guess).
    return { lines: [{ index: { _index: this.name, _id: doc.key, routing: doc.user_id } }, indexedDocument(doc)], bytes: 2 * text + 512 };
  }
}

/** The `error.type` of an OpenSearch error response, if the error is one. */
function errorType(error: unknown): string | undefined {
  const body = (error as { meta?: { body?: { error?: { type?: string } } } }).meta?.body;
  return body?.error?.type;
}
