/**
 * Step 3 of loading a topology (STYLE.md §3): check the graph. Every problem is collected with
 * its position; nothing stops at the first.
 *
 * - stage names are unique; every topic a stage names is declared; the processor exists;
 * - producer and consumer agree on each topic's Avro schema (schema resolution, as a Kafka
 *   consumer with the reader's schema would do it);
 * - a sink (processor without output) has no `to`, every other stage has one;
 * - dead-letter topics carry `DeadLetter`;
 * - no cycles, except through a stage that declares `retry: true`;
 * - every topic is written by someone (or `source: external`) and read by someone (or is a
 *   dead-letter topic, or `sink: external`);
 * - each stage's `config:` passes its processor's `spec.config`, whose output (with defaults)
 *   is kept.
 */
import type { AvroType } from '../schemas/registry.ts';
import { canRead } from '../schemas/registry.ts';
import type { ProcessorSpec } from '../processors/processor.ts';
import type { TopologyProblem } from './errors.ts';
import type { StageShape, TopologyFile } from './shape.ts';
import type { Path, YamlSource } from './yaml-source.ts';

export type ProcessorRegistry = ReadonlyMap<string, { readonly spec: ProcessorSpec<unknown> }>;

export interface GraphCheck {
  readonly problems: TopologyProblem[];
  /** Parsed `config:` of each stage (same index as the stages), or undefined where it failed. */
  readonly configs: (Record<string, unknown> | undefined)[];
}

export function outputsOf(stage: StageShape): string[] {
  return stage.to === undefined ? [] : typeof stage.to === 'string' ? [stage.to] : stage.to;
}

export function checkGraph(
  src: YamlSource,
  file: TopologyFile,
  processors: ProcessorRegistry,
  schemas: ReadonlyMap<string, AvroType>,
): GraphCheck {
  const problems: TopologyProblem[] = [];
  const report = (path: Path, what: string, key = false): void => {
    problems.push(src.problem(path, what, { key }));
  };
  const topics = new Map(Object.entries(file.topics));
  const topicType = (name: string): AvroType | undefined => {
    const topic = topics.get(name);
    return topic && schemas.get(topic.schema);
  };

  for (const [name, topic] of topics) {
    if (!schemas.has(topic.schema)) {
      report(['topics', name, 'schema'], `topic "${name}": unknown schema "${topic.schema}" (known: ${[...schemas.keys()].join(', ')})`);
    }
    if (topic.minInsyncReplicas !== undefined && topic.minInsyncReplicas > (topic.replicationFactor ?? 1)) {
      report(['topics', name, 'minInsyncReplicas'], `topic "${name}": minInsyncReplicas ${topic.minInsyncReplicas} is more than replicationFactor ${topic.replicationFactor ?? 1}`);
    }
  }

  const firstByName = new Map<string, number>();
  const configs: (Record<string, unknown> | undefined)[] = [];
  file.stages.forEach((stage, i) => {
    const at = (...p: (string | number)[]): Path => ['stages', i, ...p];
    const label = `stage "${stage.name}"`;
    const first = firstByName.get(stage.name);
    if (first === undefined) firstByName.set(stage.name, i);
    else report(at('name'), `${label}: duplicate stage name (first declared at line ${src.at(['stages', first, 'name']).line})`);

    const outputs = outputsOf(stage);
    const outPath = (j: number): Path => (typeof stage.to === 'string' ? at('to') : at('to', j));
    const refs: [Path, string][] = [[at('from'), stage.from], ...outputs.map((t, j): [Path, string] => [outPath(j), t])];
    if (stage.deadLetter !== undefined) refs.push([at('deadLetter'), stage.deadLetter]);
    for (const [path, topic] of refs) {
      if (!topics.has(topic)) report(path, `${label}: topic "${topic}" is not declared under topics:`);
    }
    if (stage.deadLetter !== undefined) {
      const dlq = topics.get(stage.deadLetter);
      if (dlq && dlq.schema !== 'DeadLetter') {
        report(at('deadLetter'), `${label}: dead-letter topic "${stage.deadLetter}" must have schema DeadLetter, not ${dlq.schema}`);
      }
    }

    const definition = processors.get(stage.processor);
    if (!definition) {
      report(at('processor'), `${label}: unknown processor "${stage.processor}" (known: ${[...processors.keys()].sort().join(', ')})`);
      configs.push(undefined);
      return;
    }
    const spec = definition.spec;
    const proc = `processor "${stage.processor}"`;
    const inType = schemas.get(spec.input);
    if (!inType) report(at('processor'), `${label}: ${proc} reads schema "${spec.input}", which is not in schemas/`);
    const outType = spec.output === null ? undefined : schemas.get(spec.output);
    if (spec.output !== null && !outType) report(at('processor'), `${label}: ${proc} writes schema "${spec.output}", which is not in schemas/`);

    const fromType = topicType(stage.from);
    if (inType && fromType) {
      const r = canRead(inType, fromType);
      if (!r.ok) {
        report(at('from'), `${label}: ${proc} reads ${spec.input} but topic "${stage.from}" carries ${file.topics[stage.from].schema}: ${r.why}`);
      }
    }
    if (spec.output === null && outputs.length > 0) {
      report(at('to'), `${label}: ${proc} is a sink (it has no output), so the stage must not have to:`);
    } else if (spec.output !== null && outputs.length === 0) {
      report(at('name'), `${label}: ${proc} writes ${spec.output}, so the stage needs a to: topic`);
    }
    const extraTypes = (spec.extraOutputs ?? []).flatMap((name) => {
      const type = schemas.get(name);
      if (!type) report(at('processor'), `${label}: ${proc} writes schema "${name}", which is not in schemas/`);
      return type ? [{ name, type }] : [];
    });
    outputs.forEach((topic, j) => {
      const toType = topicType(topic);
      if (!outType || !toType) return;
      const r = canRead(toType, outType);
      // The first output carries the main schema; later ones may carry one of the extra outputs.
      if (!r.ok && !(j > 0 && extraTypes.some((e) => e.name === file.topics[topic].schema && canRead(toType, e.type).ok))) {
        report(outPath(j), `${label}: ${proc} writes ${[spec.output, ...(j > 0 ? (spec.extraOutputs ?? []) : [])].join(' or ')} but topic "${topic}" carries ${file.topics[topic].schema}: ${r.why}`);
      }
    });
    if (stage.waitUntil !== undefined && fromType) {
      const field = (fromType as unknown as { getField?: (name: string) => { type: { typeName: string } } | undefined }).getField?.(stage.waitUntil);
      const typeName = field?.type.typeName;
      if (typeName !== 'long' && typeName !== 'timestamp-millis' && typeName !== 'int') {
        report(at('waitUntil'), `${label}: waitUntil: "${stage.waitUntil}" is not a long (timestamp) field of ${file.topics[stage.from].schema}`);
      }
    }

    configs.push(checkConfig(spec, stage, i, label, report));
  });

  checkReadersAndWriters(file, report);
  checkCycles(file, report);
  return { problems, configs };
}

function checkConfig(
  spec: ProcessorSpec<unknown>,
  stage: StageShape,
  i: number,
  label: string,
  report: (path: Path, what: string, key?: boolean) => void,
): Record<string, unknown> | undefined {
  const result = spec.config.safeParse(stage.config ?? {});
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
      const where = ['config', ...path].join('.');
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) report(['stages', i, 'config', ...path, key], `${label}: ${where}: unknown key "${key}"`, true);
      } else {
        report(['stages', i, 'config', ...path], `${label}: ${where}: ${issue.message}`);
      }
    }
    return undefined;
  }
  const data: unknown = result.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    report(['stages', i, 'config'], `${label}: the config schema of processor "${stage.processor}" must give an object`);
    return undefined;
  }
  return data as Record<string, unknown>;
}

function checkReadersAndWriters(file: TopologyFile, report: (path: Path, what: string, key?: boolean) => void): void {
  for (const [name, topic] of Object.entries(file.topics)) {
    const deadLetter = file.stages.some((s) => s.deadLetter === name);
    const written = topic.source === 'external' || deadLetter || file.stages.some((s) => outputsOf(s).includes(name));
    const read = topic.sink === 'external' || deadLetter || file.stages.some((s) => s.from === name);
    const at = ['topics', name];
    if (!written && !read) {
      report(at, `topic "${name}" is declared but no stage reads or writes it`, true);
    } else if (!written) {
      report(at, `topic "${name}": no stage writes it (if something outside the topology does, mark it source: external)`, true);
    } else if (!read) {
      report(at, `topic "${name}": no stage reads it (if something outside the topology does, mark it sink: external)`, true);
    }
  }
}

/**
 * Stage a feeds stage b when a writes (or dead-letters to) the topic b reads. Cycles are allowed
 * only through a stage that declares `retry: true`: with the out-edges of those stages removed,
 * the graph must be acyclic. A stage that declares `retry: true` must be on a cycle.
 */
function checkCycles(file: TopologyFile, report: (path: Path, what: string, key?: boolean) => void): void {
  const stages = file.stages;
  const feeds = (a: StageShape, b: StageShape): boolean => outputsOf(a).includes(b.from) || a.deadLetter === b.from;
  const all = stages.map((a) => stages.flatMap((b, j) => (feeds(a, b) ? [j] : [])));
  const strict = all.map((next, i) => (stages[i].retry ? [] : next));
  const reachAll = all.map((_, i) => reachable(all, i));
  const reachStrict = strict.map((_, i) => reachable(strict, i));

  const reported = new Set<number>();
  stages.forEach((stage, i) => {
    if (stage.retry && !reachAll[i].has(i)) {
      report(['stages', i, 'retry'], `stage "${stage.name}" declares retry: true but none of its outputs leads back to its input "${stage.from}"`);
    }
    if (!reachStrict[i].has(i) || reported.has(i)) return;
    const members = stages.map((_, j) => j).filter((j) => reachStrict[i].has(j) && reachStrict[j].has(i));
    members.forEach((j) => reported.add(j));
    const loop = [...shortestCycle(strict, i), i].map((j) => `"${stages[j].name}"`).join(' → ');
    report(['stages', i, 'name'], `cycle through stages ${loop}; only a stage with retry: true may feed its own input`);
  });
}

/** The nodes reachable from `start` in one or more steps. */
function reachable(next: readonly number[][], start: number): Set<number> {
  const seen = new Set<number>();
  const queue = [...next[start]];
  while (queue.length > 0) {
    const n = queue.shift() as number;
    if (seen.has(n)) continue;
    seen.add(n);
    queue.push(...next[n]);
  }
  return seen;
}

/** A shortest path start → … → start, without the final start (breadth first). */
function shortestCycle(next: readonly number[][], start: number): number[] {
  const parent = new Map<number, number>();
  const queue = [start];
  while (queue.length > 0) {
    const n = queue.shift() as number;
    for (const m of next[n]) {
      if (m === start) {
        const path = [n];
        while (path[0] !== start) path.unshift(parent.get(path[0]) as number);
        return path;
      }
      if (!parent.has(m) && m !== start) {
        parent.set(m, n);
        queue.push(m);
      }
    }
  }
  return [start];
}
