/**
 * A client of the Confluent Schema Registry REST API (v7), as Apicurio Registry serves it under
 * `/apis/ccompat/v7` (ops/engines/registry.sh): the three calls the framed log needs. Node's
 * fetch, a timeout per call; errors name the call and the registry's own message.
 *
 * Why not `@kafkajs/confluent-schema-registry`: it decodes to JS values (the log passes bytes
 * through, untouched when the writer schema is the current one), it hands back Avro types of
 * its own avsc instance, and it brings protobufjs and ajv for three HTTP calls.
 */

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
/** Calls tried when the registry reports a race with another process (409 already exists). */
const RACE_TRIES = 8;

export type Compatibility = 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE' | 'NONE';

/** The registry has no schema of this id: a record framed with it cannot be read. */
export class SchemaNotFoundError extends Error {
  constructor(readonly id: number) {
    super(`the schema registry has no schema with id ${id}`);
    this.name = 'SchemaNotFoundError';
  }
}

/** The registry answered with an error, or did not answer. */
export class SchemaRegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SchemaRegistryError';
  }
}

export interface SchemaRegistry {
  /** Sets the subject's compatibility rule (checked when a new version is registered). */
  setCompatibility(subject: string, level: Compatibility): Promise<void>;
  /** Registers `schema` (Avro JSON text) under `subject`; the id of it (the same id when already registered). */
  register(subject: string, schema: string): Promise<number>;
  /** The schema (Avro JSON text) of `id`; SchemaNotFoundError when there is none. */
  schema(id: number): Promise<string>;
  /** The subjects the registry holds (Apicurio 2.4 lists at most 999). */
  subjects(): Promise<string[]>;
}

export interface ConfluentRegistryOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:19081/apis/ccompat/v7`. */
  url: string;
  /** Per call, ms (default 10 s). */
  timeoutMs?: number;
}

export class ConfluentRegistryClient implements SchemaRegistry {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(options: ConfluentRegistryOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async setCompatibility(subject: string, level: Compatibility): Promise<void> {
    await this.raceRetried('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
  }

  async register(subject: string, schema: string): Promise<number> {
    const body = (await this.raceRetried('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema, schemaType: 'AVRO' })) as { id?: unknown };
    if (typeof body.id !== 'number') throw new SchemaRegistryError(`registering ${subject}: the answer has no id (${JSON.stringify(body)})`);
    return body.id;
  }

  /**
   * A call that two processes may make at once (role processes starting together). Apicurio 2.4
   * answers 409 "… already exists" to one of them: "artifact … already exists" to a second
   * registration of a new subject, "A rule named 'COMPATIBILITY' already exists" to a second
   * first setting of its rule. Asked again, it gives the id or updates the rule.
   */
  private async raceRetried(method: string, path: string, body: unknown): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.call(method, path, body);
      } catch (err) {
        const race = err instanceof SchemaRegistryError && err.status === 409 && /already exists/i.test(err.message);
        if (!race || attempt >= RACE_TRIES) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt + Math.random() * 200));
      }
    }
  }

  async schema(id: number): Promise<string> {
    try {
      const body = (await this.call('GET', `/schemas/ids/${id}`)) as { schema?: unknown };
      if (typeof body.schema !== 'string') throw new SchemaRegistryError(`schema ${id}: the answer has no schema (${JSON.stringify(body)})`);
      return body.schema;
    } catch (err) {
      if (err instanceof SchemaRegistryError && err.status === 404) throw new SchemaNotFoundError(id);
      throw err;
    }
  }

  async subjects(): Promise<string[]> {
    return (await this.call('GET', '/subjects')) as string[];
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const what = `${method} ${this.base}${path}`;
    let response: Response;
    try {
      response = await fetch(this.base + path, {
        method,
        headers: { accept: CONTENT_TYPE, ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new SchemaRegistryError(`${what}: no answer (${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)})`, undefined, { cause: err });
    }
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try {
        message = String((JSON.parse(text) as { message?: unknown }).message ?? text);
      } catch {
        // not JSON: the text as it came
      }
      throw new SchemaRegistryError(`${what}: ${response.status} ${message}`, response.status);
    }
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }
}
