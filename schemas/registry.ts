/**
 * The Avro schemas of every record type, loaded from `schemas/*.avsc` with avsc. A schema may
 * name types defined by the files listed before it in `SCHEMA_ORDER`.
 */
import avro from 'avsc';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

/** Load order: dependencies first. */
export const SCHEMA_ORDER = ['Address', 'MailReceived', 'ParsedMail', 'MailboxCommand', 'MailboxEvent', 'DeadLetter', 'MailOutbound', 'DeliveryResult', 'QueueControl'] as const;
export type SchemaName = (typeof SCHEMA_ORDER)[number];

export type AvroType = avro.Type;

let cache: Map<string, avro.Type> | undefined;

/** Reads the schema files in `dir` (default: this folder) into a fresh map name → avsc Type. */
export function loadSchemas(dir = here, order: readonly string[] = SCHEMA_ORDER): Map<string, avro.Type> {
  const registry: Record<string, avro.Type> = {};
  const types = new Map<string, avro.Type>();
  for (const name of order) {
    const schema = JSON.parse(readFileSync(join(dir, `${name}.avsc`), 'utf8')) as avro.Schema;
    types.set(name, avro.Type.forSchema(schema, { registry }));
  }
  return types;
}

export function schemas(): Map<string, avro.Type> {
  cache ??= loadSchemas();
  return cache;
}

export function schemaNames(): string[] {
  return [...schemas().keys()];
}

export function schemaType(name: string): avro.Type {
  const type = schemas().get(name);
  if (!type) throw new Error(`unknown schema: ${name}`);
  return type;
}

/** Whether data written with `writer` can be read with `reader` (Avro schema resolution). */
export function canRead(reader: avro.Type, writer: avro.Type): { ok: true } | { ok: false; why: string } {
  try {
    reader.createResolver(writer);
    return { ok: true };
  } catch (err) {
    return { ok: false, why: err instanceof Error ? err.message : String(err) };
  }
}
