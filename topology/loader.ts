/**
 * Loads topology files in three steps (STYLE.md §3): parse the YAML keeping positions, validate
 * the shape, check the graph. All problems are collected and thrown as one `TopologyError`;
 * the result is deeply frozen.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AvroType } from '../schemas/registry.ts';
import { schemas as defaultSchemas } from '../schemas/registry.ts';
import { TopologyError } from './errors.ts';
import type { TopologyProblem } from './errors.ts';
import { checkGraph, outputsOf } from './check.ts';
import type { ProcessorRegistry } from './check.ts';
import { FrozenMap } from './model.ts';
import type { StageDecl, TopicDecl, Topology } from './model.ts';
import { parseDurationText, parseRetention, topologyFileShape } from './shape.ts';
import type { TopologyFile } from './shape.ts';
import { YamlSource } from './yaml-source.ts';

export type { ProcessorRegistry } from './check.ts';

export interface LoadOptions {
  /** Avro types by name; default: `schemas/*.avsc`. */
  readonly schemas?: ReadonlyMap<string, AvroType>;
}

interface Analysis {
  readonly source: YamlSource;
  readonly topology?: Topology;
  readonly problems: TopologyProblem[];
}

export function parseTopology(text: string, file: string, processors: ProcessorRegistry, options: LoadOptions = {}): Topology {
  const { topology, problems } = analyse(text, file, processors, options);
  if (!topology) throw new TopologyError(problems);
  return topology;
}

export function loadTopology(file: string, processors: ProcessorRegistry, options: LoadOptions = {}): Topology {
  return parseTopology(readText(file), file, processors, options);
}

/**
 * Every `*.yaml` file in `dir`, in name order. Files are checked one by one, then together:
 * topology names are unique, and a topic declared in several files is declared alike.
 */
export function loadTopologies(dir: string, processors: ProcessorRegistry, options: LoadOptions = {}): Topology[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort();
  } catch (err) {
    throw new TopologyError([{ file: dir, line: 0, column: 0, what: `cannot read the folder: ${message(err)}` }]);
  }
  if (names.length === 0) throw new TopologyError([{ file: dir, line: 0, column: 0, what: 'no *.yaml topology files' }]);
  const analyses = names.map((n) => {
    const file = join(dir, n);
    return analyse(readText(file), file, processors, options);
  });
  const problems = analyses.flatMap((a) => a.problems);
  problems.push(...crossCheck(analyses));
  if (problems.length > 0) throw new TopologyError(problems);
  return analyses.map((a) => a.topology as Topology);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new TopologyError([{ file, line: 0, column: 0, what: `cannot read the file: ${message(err)}` }]);
  }
}

function analyse(text: string, file: string, processors: ProcessorRegistry, options: LoadOptions): Analysis {
  // Step 1: YAML, with positions.
  const source = new YamlSource(text, file);
  if (source.syntaxProblems.length > 0) return { source, problems: [...source.syntaxProblems] };

  // Step 2: the shape.
  const shaped = topologyFileShape.safeParse(source.value);
  if (!shaped.success) {
    const problems = shaped.error.issues.flatMap((issue): TopologyProblem[] => {
      const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
      const where = describePath(path, source.value);
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => source.problem([...path, key], `${where}unknown key "${key}"`, { key: true }));
      }
      const missing = !source.at(path).exact;
      return [source.problem(path, `${where}${missing ? 'required' : issue.message}`)];
    });
    return { source, problems };
  }

  // Step 3: the graph.
  const { problems, configs } = checkGraph(source, shaped.data, processors, options.schemas ?? defaultSchemas());
  if (problems.length > 0) return { source, problems };
  return { source, problems, topology: build(shaped.data, file, configs as Record<string, unknown>[]) };
}

function build(data: TopologyFile, file: string, configs: readonly Record<string, unknown>[]): Topology {
  const topics = Object.entries(data.topics).map(([name, t]): [string, TopicDecl] => {
    const topic: TopicDecl = {
      name,
      schema: t.schema,
      key: t.key,
      partitions: t.partitions,
      ...(t.retention !== undefined && { retentionMs: parseRetention(t.retention) }),
      ...(t.replicationFactor !== undefined && { replicationFactor: t.replicationFactor }),
      ...(t.minInsyncReplicas !== undefined && { minInsyncReplicas: t.minInsyncReplicas }),
      ...(t.source !== undefined && { source: t.source }),
      ...(t.sink !== undefined && { sink: t.sink }),
    };
    return [name, deepFreeze(topic)];
  });
  const stages = data.stages.map(
    (s, i): StageDecl => ({
      name: s.name,
      processor: s.processor,
      from: s.from,
      to: outputsOf(s),
      ...(s.deadLetter !== undefined && { deadLetter: s.deadLetter }),
      config: configs[i],
      ...(s.retry === true && { retryLoop: true }),
      ...(s.waitUntil !== undefined && { waitUntil: s.waitUntil }),
      ...(s.linger !== undefined && { lingerMs: parseDurationText(s.linger) }),
    }),
  );
  return Object.freeze({
    name: data.name,
    description: data.description ?? '',
    file,
    topics: new FrozenMap(topics),
    stages: deepFreeze(stages),
  });
}

/** Freezes plain objects and arrays, all the way down. */
function deepFreeze<T>(value: T): T {
  if (Array.isArray(value) || (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)) {
    for (const v of Object.values(value as object)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function crossCheck(analyses: readonly Analysis[]): TopologyProblem[] {
  const problems: TopologyProblem[] = [];
  const names = new Map<string, string>();
  const topics = new Map<string, { decl: TopicDecl; file: string }>();
  for (const { topology: t, source } of analyses) {
    if (!t) continue;
    const otherFile = names.get(t.name);
    if (otherFile) problems.push(source.problem(['name'], `topology name "${t.name}" is also used by ${otherFile}`));
    else names.set(t.name, t.file);
    for (const decl of t.topics.values()) {
      const seen = topics.get(decl.name);
      if (!seen) {
        topics.set(decl.name, { decl, file: t.file });
        continue;
      }
      for (const field of ['schema', 'key', 'partitions'] as const) {
        if (seen.decl[field] !== decl[field]) {
          problems.push(
            source.problem(
              ['topics', decl.name, field],
              `topic "${decl.name}": ${field} ${decl[field]} differs from ${seen.decl[field]} in ${seen.file}`,
            ),
          );
        }
      }
    }
  }
  return problems;
}

/** `topic "mail.parsed": partitions: `, `stage "store": from: `, `name: ` for a shape problem. */
function describePath(path: readonly (string | number)[], value: unknown): string {
  const [head, index, ...rest] = path;
  let owner = '';
  let tail: readonly (string | number)[] = path;
  if (head === 'topics' && index !== undefined) {
    owner = `topic "${index}"`;
    tail = rest;
  } else if (head === 'stages' && typeof index === 'number') {
    const stages = (value as { stages?: unknown } | null)?.stages;
    const name = Array.isArray(stages) ? (stages[index] as { name?: unknown } | null)?.name : undefined;
    owner = typeof name === 'string' ? `stage "${name}"` : `stage #${index + 1}`;
    tail = rest;
  }
  const parts = [owner, tail.join('.')].filter((s) => s !== '');
  return parts.map((s) => `${s}: `).join('');
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
