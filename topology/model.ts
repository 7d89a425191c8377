/**
 * The in-memory form of a topology file, as the loader returns it: validated, with defaults
 * applied, and deeply frozen (STYLE.md §3). The runner, `describe` and `graph` read only this.
 */

export interface TopicDecl {
  readonly name: string;
  /** Avro schema name of the records (a file `schemas/<schema>.avsc`). */
  readonly schema: string;
  /** What the record key is (e.g. `userId`); records with the same key keep their order. */
  readonly key: string;
  readonly partitions: number;
  readonly retentionMs?: number;
  readonly replicationFactor?: number;
  readonly minInsyncReplicas?: number;
  /** `external`: written from outside the topology (SMTP ingress, IMAP, the HTTP API). */
  readonly source?: 'external';
  /** `external`: read from outside the topology (another deployment, an operator tool). */
  readonly sink?: 'external';
}

export interface StageDecl {
  readonly name: string;
  /** Name of the processor in the registry (`processors/index.ts`). */
  readonly processor: string;
  readonly from: string;
  /** Output topics; the first is the default for outputs that name none. Empty for a sink. */
  readonly to: readonly string[];
  readonly deadLetter?: string;
  /** The stage's `config:` block parsed by the processor's `spec.config`, defaults applied. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Declared retry loop: the stage's outputs may lead back to its own input (`retry: true`). */
  readonly retryLoop?: boolean;
  /**
   * Field of the input record holding the time (ms since epoch) before which the record is not
   * processed; the runner holds its partition until then (see `Consumer.pauseAt`).
   */
  readonly waitUntil?: string;
  /** This stage's linger (ms), overriding the runner's: see RunnerOptions.lingerMs. */
  readonly lingerMs?: number;
}

export interface Topology {
  readonly name: string;
  readonly description: string;
  /** The file it was loaded from, as given to the loader. */
  readonly file: string;
  /** Declared topics, in file order. */
  readonly topics: ReadonlyMap<string, TopicDecl>;
  /** Stages, in file order. */
  readonly stages: readonly StageDecl[];
}

/** A Map that refuses changes once built (`Object.freeze` does not stop `Map.set`). */
export class FrozenMap<K, V> extends Map<K, V> {
  #sealed = false;

  constructor(entries: Iterable<readonly [K, V]>) {
    super();
    for (const [key, value] of entries) super.set(key, value);
    this.#sealed = true;
    Object.freeze(this);
  }

  override set(key: K, value: V): this {
    if (this.#sealed) throw new TypeError('topology is frozen');
    return super.set(key, value);
  }

  override delete(): boolean {
    throw new TypeError('topology is frozen');
  }

  override clear(): void {
    throw new TypeError('topology is frozen');
  }
}
