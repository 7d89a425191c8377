/**
 * The embedded durable log: Kafka-shaped topics on one SQLite file (WAL), so that one machine
 * needs no broker.
 *
 * Durability: a transaction holding a `produce()` (an SMTP 250, a client's command, a CLI's
 * append) is fsynced before any of its promises settle (synchronous=FULL). A transaction of
 * `Consumer.commit()` calls only — a stage's outputs and input offsets — is not fsynced on its
 * own (synchronous=NORMAL): it is atomic and survives the process being killed (the WAL is in
 * the OS's cache), and it becomes durable with the next fsynced commit or checkpoint. A power cut
 * can therefore roll back the newest stage commits (a suffix of the WAL, never a hole); the
 * stages then run those records again, which every stage allows already (sinks are idempotent
 * and durable on their own, outputs derive from inputs: DESIGN.md §1.3). Nothing acknowledged
 * is in such a commit, and it spares one fsync per stage per batch — e.g. on the path of an IMAP
 * STORE, whose answer waits for the command's append and the store's write, not the events' commit.
 *
 * `syncOnPool` (the server's pipeline thread, which makes every append of its process): a
 * transaction holding a `produce()` is committed without SQLite's fsync and the WAL is fsynced on
 * libuv's thread pool instead (`WalSyncer`; appends committed during that fsync share the next
 * one); the produce promises settle after it, as with FULL — the thread meanwhile runs the
 * stages instead of waiting for the disk. Until that fsync ends, the appended records are hidden
 * from this instance's consumers, reads and end offsets (each partition ends, for them, before
 * the first record not yet durable), so no stage acts on a record a power cut could still take
 * back; consumer commits in the same transaction settle at once, as they do without a produce.
 *
 * Group commit: `produce()` and `Consumer.commit()` calls made within `lingerMs` (0 = until the
 * next `setImmediate`) are queued and written in one BEGIN IMMEDIATE transaction — one fsync
 * for all of them; each promise settles after that commit. End offsets are cached in memory so
 * an append needs no SELECT; inside each write transaction `PRAGMA data_version` tells whether
 * another connection (another process, e.g. `sluice dlq replay`) wrote the file since, and the
 * cache is then reloaded while the write lock is held.
 */
import type {
  Consumer,
  Log,
  LogRecord,
  PartitionLag,
  ProduceRecord,
  RecordPosition,
  TopicSpec,
} from './log.ts';
import { unknownTopic, writeBatch } from './embedded/batch.ts';
import type { BatchItem, Outcome, TopicState } from './embedded/batch.ts';
import { EmbeddedConsumer } from './embedded/consumer.ts';
import type { ConsumerHost, Waiter } from './embedded/consumer.ts';
import { openLogDatabase, prepareStatements } from './embedded/schema.ts';
import { sqliteHealth, type EngineHealth } from '../health.ts';
import { WalSyncer, walPathOf, type FileSync } from '../wal-commit.ts';
import type { Db, RecordRow, Statements } from './embedded/schema.ts';

/** How often waiting consumers are checked for appends made by another connection to the file. */
const EXTERNAL_CHECK_MS = 100;

export interface EmbeddedLogOptions {
  /** The SQLite file; created if missing. */
  readonly path: string;
  /** How long to gather produce/commit calls into one transaction; 0 = the current tick only. */
  readonly lingerMs?: number;
  /** How long a group commit retries a taken write lock on the event loop before it blocks (default 20 ms). */
  readonly lockSpinMs?: number;
  /** fsync transactions holding a produce on libuv's thread pool, records hidden until then (see above). */
  readonly syncOnPool?: boolean;
  /** How `syncOnPool` fsyncs the WAL (tests); default fdatasync. */
  readonly syncFile?: FileSync;
}

export interface EmbeddedLogStats {
  /** Write transactions committed by this instance. */
  readonly transactions: number;
  /** Records appended by this instance. */
  readonly records: number;
  /** Of `transactions`, those fsynced at commit (synchronous=FULL: they held a produce()). */
  readonly durableTransactions: number;
}

/** How long a group commit retries a taken write lock on the event loop before it blocks. */
const LOCK_SPIN_MS = 20;


export class EmbeddedLog implements Log {
  private readonly db: Db;
  private readonly st: Statements;
  private readonly lingerMs: number;
  private readonly lockSpinMs: number;
  private readonly topicCache = new Map<string, TopicState>();
  /** `data_version` when the cache was loaded; -1 = reload before use. */
  private cacheVersion = -1;
  private readonly appendListeners = new Set<(topics: string[]) => void>();
  private queue: BatchItem[] = [];
  private cancelFlush: (() => void) | undefined;
  private readonly waiters = new Set<Waiter>();
  /** `checkExternal` every EXTERNAL_CHECK_MS while consumers wait (one check for all of them). */
  private externalChecks: NodeJS.Timeout | undefined;
  private readonly consumers = new Set<EmbeddedConsumer>();
  private readonly host: ConsumerHost;
  private closed = false;
  /** When the queued batch first found the write lock taken (undefined: not waiting). */
  private lockWaitSince: number | undefined;
  private counts = { transactions: 0, records: 0, durableTransactions: 0 };
  /** The connection's `synchronous` setting now (it cannot change inside a transaction). */
  private synchronous: 'FULL' | 'NORMAL' = 'FULL';
  /** A commit since the last fsync was not fsynced: `close()` checkpoints so it is. */
  private unsynced = false;
  /** `syncOnPool`: the WAL's fsyncs off this thread. */
  private readonly syncer: WalSyncer | undefined;
  /**
   * `syncOnPool`: per produce transaction whose fsync has not ended, the first offset it wrote in
   * each partition (`${topic}\0${partition}`). Records from there on are hidden from this instance's readers.
   */
  private readonly notDurable = new Set<ReadonlyMap<string, number>>();
  /** The SQLite file (another thread's connection opens the same one: ops/append-thread.ts). */
  readonly path: string;

  constructor(options: EmbeddedLogOptions) {
    this.path = options.path;
    this.db = openLogDatabase(options.path);
    this.st = prepareStatements(this.db);
    this.lingerMs = Math.max(0, options.lingerMs ?? 0);
    this.lockSpinMs = Math.max(0, options.lockSpinMs ?? LOCK_SPIN_MS);
    this.syncer = options.syncOnPool ? new WalSyncer(walPathOf(this.db), options.syncFile) : undefined;
    this.host = {
      partitionEnds: (topic) => this.visibleEnds(topic),
      committedOffsets: (group, topic) => this.committedNow(group, topic),
      readFrom: (topic, partition, offset, max) => this.readVisible(topic, partition, offset, max),
      commit: async (group, outputs, offsets) => {
        const [outs, offs] = [[...outputs], [...offsets]];
        await this.enqueue((resolve, reject) => ({ kind: 'commit', group, outputs: outs, offsets: offs, resolve, reject }));
      },
      dataVersion: () => this.st.dataVersion.get() as number,
      watch: (waiter) => {
        this.waiters.add(waiter);
        this.externalChecks ??= setInterval(() => this.checkExternal(), EXTERNAL_CHECK_MS).unref();
      },
      unwatch: (waiter) => this.waiters.delete(waiter),
      forget: (consumer) => this.consumers.delete(consumer),
    };
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    this.assertOpen();
    this.setSynchronous('FULL');
    for (const spec of specs) {
      if (!spec.name || typeof spec.name !== 'string') throw new Error('topic name must be a non-empty string');
      if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
        throw new Error(`topic "${spec.name}": partitions must be a positive integer, got ${spec.partitions}`);
      }
    }
    this.write(() => {
      for (const spec of specs) {
        const retention = spec.retentionMs ?? null;
        const existing = this.st.topic.get(spec.name);
        if (!existing) {
          this.st.insertTopic.run(spec.name, spec.partitions, retention);
        } else if (spec.partitions < existing.partitions) {
          throw new Error(
            `cannot shrink topic "${spec.name}" from ${existing.partitions} to ${spec.partitions} partitions ` +
              '(records are keyed to partitions; partitions may only grow)',
          );
        } else if (spec.partitions !== existing.partitions || retention !== existing.retention_ms) {
          this.st.updateTopic.run(spec.partitions, retention, spec.name);
        }
        for (let p = 0; p < spec.partitions; p++) this.st.insertPartition.run(spec.name, p);
      }
    });
    this.cacheVersion = -1;
  }

  produce(records: readonly ProduceRecord[]): Promise<RecordPosition[]> {
    if (records.length === 0) return this.closed ? Promise.reject(closedError()) : Promise.resolve([]);
    return this.enqueue((resolve, reject) => ({ kind: 'produce', records: [...records], resolve, reject }));
  }

  async consumer(group: string, topics: readonly string[]): Promise<Consumer> {
    this.assertOpen();
    if (topics.length === 0) throw new Error(`consumer of group "${group}" needs at least one topic`);
    for (const topic of topics) this.topicNow(topic);
    const consumer = new EmbeddedConsumer(this.host, group, topics);
    this.consumers.add(consumer);
    return consumer;
  }

  async read(topic: string, partition: number, offset: number, max: number): Promise<LogRecord[]> {
    this.assertOpen();
    this.topicNow(topic);
    if (!(max >= 1)) return [];
    return this.readVisible(topic, partition, offset, Math.floor(max));
  }

  async topics(): Promise<TopicSpec[]> {
    this.assertOpen();
    return this.st.allTopics.all().map((row) => ({
      name: row.name,
      partitions: row.partitions,
      ...(row.retention_ms === null ? {} : { retentionMs: row.retention_ms }),
    }));
  }

  async endOffsets(topic: string): Promise<number[]> {
    this.assertOpen();
    this.topicNow(topic);
    return this.visibleEnds(topic);
  }

  async committed(group: string, topic: string): Promise<number[]> {
    this.assertOpen();
    this.topicNow(topic);
    return this.committedNow(group, topic);
  }

  async lag(group: string, topics: readonly string[]): Promise<PartitionLag[]> {
    this.assertOpen();
    const now = Date.now();
    const lags: PartitionLag[] = [];
    for (const topic of topics) {
      this.topicNow(topic);
      const ends = this.visibleEnds(topic);
      const committed = this.committedNow(group, topic);
      ends.forEach((end, partition) => {
        const from = committed[partition] ?? 0;
        const oldest = end > from ? this.st.firstTimestamp.get(topic, partition, from, end) : undefined;
        lags.push({
          group,
          topic,
          partition,
          committed: from,
          end,
          records: Math.max(0, end - from),
          seconds: oldest === undefined ? 0 : Math.max(0, now - oldest) / 1000,
        });
      });
    }
    return lags;
  }

  async enforceRetention(now: number = Date.now()): Promise<number> {
    this.assertOpen();
    this.setSynchronous('FULL');
    return this.write(() => {
      let deleted = 0;
      for (const topic of this.st.allTopics.all()) {
        if (topic.retention_ms !== null) deleted += this.st.deleteOlder.run(topic.name, now - topic.retention_ms).changes;
      }
      return deleted;
    });
  }

  health(): Promise<EngineHealth> {
    return sqliteHealth('embedded', this.db);
  }

  /** Counters for tests and metrics. */
  stats(): EmbeddedLogStats {
    return { ...this.counts };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush(true);
    this.closed = true;
    clearInterval(this.externalChecks);
    this.externalChecks = undefined;
    await this.syncer?.close();
    for (const consumer of [...this.consumers]) await consumer.close();
    for (const waiter of [...this.waiters]) waiter.wake();
    // The WAL is fsynced before a checkpoint copies it, so stage commits made since the last
    // fsync are durable once this process is gone (closing the last connection checkpoints too).
    if (this.unsynced) this.db.pragma('wal_checkpoint(PASSIVE)');
    this.db.close();
  }

  private enqueue(make: (resolve: (p: RecordPosition[]) => void, reject: (e: Error) => void) => BatchItem): Promise<RecordPosition[]> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.queue.push(make(resolve, reject));
      if (this.cancelFlush) return;
      if (this.lingerMs === 0) {
        const handle = setImmediate(() => this.flush());
        this.cancelFlush = () => clearImmediate(handle);
      } else {
        const handle = setTimeout(() => this.flush(), this.lingerMs);
        this.cancelFlush = () => clearTimeout(handle);
      }
    });
  }

  /**
   * Writes every queued call in one transaction, then settles their promises. When another
   * connection (the other thread, another process) holds the write lock, the batch waits on the
   * next turns of the event loop rather than in SQLite's busy handler, which sleeps a millisecond
   * or more at a time and blocks this thread meanwhile; calls made during the wait join the batch.
   * After `lockSpinMs` (or when closing) it waits blocking, up to the busy timeout.
   */
  private flush(blocking = false): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    if (this.queue.length === 0) return;
    const waited = this.lockWaitSince === undefined ? 0 : performance.now() - this.lockWaitSince;
    const produces = this.queue.some((item) => item.kind === 'produce');
    this.setSynchronous(produces && !this.syncer ? 'FULL' : 'NORMAL');
    const locked = !blocking && waited < this.lockSpinMs ? this.tryBegin() : null;
    if (locked === false) {
      this.lockWaitSince ??= performance.now();
      const handle = setImmediate(() => this.flush());
      this.cancelFlush = () => clearImmediate(handle);
      return;
    }
    this.lockWaitSince = undefined;
    const items = this.queue;
    this.queue = [];
    let result;
    try {
      const body = () => writeBatch(this.st, this.loadTopics(), items);
      result = locked ? this.writeLocked(body) : this.write(body);
    } catch (error) {
      this.cacheVersion = -1;
      for (const item of items) item.reject(error as Error);
      return;
    }
    this.counts.records += result.records;
    for (const [topic, ends] of result.ends) {
      const state = this.topicCache.get(topic) as TopicState;
      this.topicCache.set(topic, { ...state, ends });
    }
    if (produces && this.syncer) {
      this.settleAfterSync(items, result.outcomes);
      return;
    }
    result.outcomes.forEach((outcome, i) => {
      if (outcome.ok) items[i].resolve(outcome.positions);
      else items[i].reject(outcome.error);
    });
    this.announce(new Set(result.ends.keys()));
  }

  /**
   * `syncOnPool`: the commit items settle now; the produce items' records stay hidden until the
   * WAL's fsync on the pool has ended, then are shown and their promises settle. A failed fsync
   * rejects them (the client is told to try again) and shows the records all the same: they are
   * committed, and hiding them for good would stop their partitions.
   */
  private settleAfterSync(items: readonly BatchItem[], outcomes: readonly Outcome[]): void {
    const hidden = new Map<string, number>();
    const produced = new Set<string>();
    const committed = new Set<string>();
    const waiting: { item: BatchItem; positions: RecordPosition[] }[] = [];
    outcomes.forEach((outcome, i) => {
      const item = items[i];
      if (!outcome.ok) return item.reject(outcome.error);
      for (const p of outcome.positions) {
        if (item.kind === 'commit') {
          committed.add(p.topic);
          continue;
        }
        produced.add(p.topic);
        const key = partitionKey(p.topic, p.partition);
        hidden.set(key, Math.min(p.offset, hidden.get(key) ?? Infinity)); // the first offset written there
      }
      if (item.kind === 'commit') item.resolve(outcome.positions);
      else waiting.push({ item, positions: outcome.positions });
    });
    this.announce(committed);
    if (waiting.length === 0) return;
    this.notDurable.add(hidden);
    (this.syncer as WalSyncer).sync().then(
      () => {
        this.notDurable.delete(hidden);
        this.counts.durableTransactions++;
        for (const w of waiting) w.item.resolve(w.positions);
        this.announce(produced);
      },
      (error: unknown) => {
        this.notDurable.delete(hidden);
        for (const w of waiting) w.item.reject(error instanceof Error ? error : new Error(String(error)));
        this.announce(produced);
      },
    );
  }

  /** Wakes this instance's consumers waiting on `topics` and tells the append listeners. */
  private announce(topics: ReadonlySet<string>): void {
    if (topics.size === 0) return;
    this.wakeWaiters(topics);
    for (const listener of this.appendListeners) listener([...topics]);
  }

  /** End offsets as this instance's readers see them: each partition before its first record not yet durable (`syncOnPool`). */
  private visibleEnds(topic: string): number[] {
    const ends = this.st.ends.all(topic);
    if (this.notDurable.size === 0) return ends;
    return ends.map((end, partition) => Math.min(end, this.hiddenFrom(topic, partition)));
  }

  /** Up to `max` records from `offset`, none at or after the partition's first record not yet durable. */
  private readVisible(topic: string, partition: number, offset: number, max: number): LogRecord[] {
    const count = Math.min(max, this.hiddenFrom(topic, partition) - offset);
    if (!(count >= 1)) return [];
    return this.st.readFrom.all(topic, partition, offset, count).map(toLogRecord);
  }

  /** The partition's first offset not yet durable (`syncOnPool`), or Infinity. */
  private hiddenFrom(topic: string, partition: number): number {
    let from = Infinity;
    if (this.notDurable.size === 0) return from;
    const key = partitionKey(topic, partition);
    for (const hidden of this.notDurable) from = Math.min(from, hidden.get(key) ?? Infinity);
    return from;
  }

  /**
   * Another thread or process appended to `topics` (it says so through `onAppend`): wake the
   * consumers waiting on them now, rather than at their next check of the file.
   */
  notifyExternalAppend(topics: Iterable<string>): void {
    if (!this.closed) this.wakeWaiters(new Set(topics));
  }

  /** Calls `listener` with the topics of each committed batch of this instance; returns the unsubscribe. */
  onAppend(listener: (topics: string[]) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /**
   * Wakes the waiting consumers that have not seen the file's current `data_version` (another
   * connection wrote since they looked: a second process, or a thread of this one with its own
   * connection). Stops once none waits; the next `watch` starts it again.
   */
  private checkExternal(): void {
    if (this.waiters.size === 0 || this.closed) {
      clearInterval(this.externalChecks);
      this.externalChecks = undefined;
      return;
    }
    const version = this.st.dataVersion.get() as number;
    for (const waiter of [...this.waiters]) if (waiter.version !== version) waiter.wake();
  }

  private wakeWaiters(appended: ReadonlySet<string>): void {
    for (const waiter of [...this.waiters]) {
      for (const topic of waiter.topics) {
        if (appended.has(topic)) {
          waiter.wake();
          break;
        }
      }
    }
  }

  /** Sets `synchronous` for the next transaction (SQLite refuses to change it inside one). */
  private setSynchronous(level: 'FULL' | 'NORMAL'): void {
    if (this.synchronous === level || this.db.inTransaction) return;
    this.db.pragma(`synchronous = ${level}`);
    this.synchronous = level;
  }

  /** Counts a committed transaction, and whether it was fsynced (a `syncOnPool` one is counted when its fsync ends). */
  private countCommit(): void {
    this.counts.transactions++;
    if (this.synchronous === 'FULL') {
      this.counts.durableTransactions++;
      this.unsynced = false;
    } else {
      this.unsynced = true;
    }
  }

  /** BEGIN IMMEDIATE if the write lock is free now: true (the transaction is open) or false (busy). */
  private tryBegin(): boolean {
    this.st.noBusyWait.get();
    try {
      this.st.beginImmediate.run();
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_BUSY') return false;
      throw error;
    } finally {
      this.st.busyWait.get();
    }
  }

  /** The rest of a transaction `tryBegin` opened: the body, then COMMIT (ROLLBACK if it throws). */
  private writeLocked<T>(body: () => T): T {
    let value: T;
    try {
      value = body();
      this.st.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.st.rollback.run();
      throw error;
    }
    this.countCommit();
    return value;
  }

  /** One BEGIN IMMEDIATE transaction (waits up to the busy timeout for another writer). */
  private write<T>(body: () => T): T {
    const value = this.db.transaction(body).immediate();
    this.countCommit();
    return value;
  }

  /** The topic cache, reloaded if another connection wrote since it was loaded. */
  private loadTopics(): ReadonlyMap<string, TopicState> {
    const version = this.st.dataVersion.get() as number;
    if (version === this.cacheVersion) return this.topicCache;
    const ends = new Map<string, number[]>();
    for (const row of this.st.allPartitions.all()) {
      let list = ends.get(row.topic);
      if (!list) ends.set(row.topic, (list = []));
      list[row.partition] = row.end_offset;
    }
    this.topicCache.clear();
    for (const row of this.st.allTopics.all()) {
      this.topicCache.set(row.name, {
        partitions: row.partitions,
        retentionMs: row.retention_ms ?? undefined,
        ends: ends.get(row.name) ?? [],
      });
    }
    this.cacheVersion = version;
    return this.topicCache;
  }

  /** Throws a clear error unless `topic` exists in the file now. */
  private topicNow(topic: string): void {
    if (!this.st.topic.get(topic)) throw unknownTopic(topic);
  }

  private committedNow(group: string, topic: string): number[] {
    const committed = this.st.ends.all(topic).map(() => 0);
    for (const row of this.st.committed.all(group, topic)) {
      if (row.partition < committed.length) committed[row.partition] = row.next_offset;
    }
    return committed;
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function closedError(): Error {
  return new Error('embedded log is closed');
}

function toLogRecord(row: RecordRow): LogRecord {
  return {
    topic: row.topic,
    partition: row.partition,
    offset: row.offset,
    key: row.key,
    value: row.value,
    headers: row.headers === null ? {} : (JSON.parse(row.headers) as Record<string, string>),
    timestamp: row.timestamp,
  };
}
