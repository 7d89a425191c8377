/**
 * Stable text views of a loaded topology (like Kafka Streams' `TopologyDescription`):
 * `describeTopology` for review and snapshot tests, `graphTopology` for Mermaid or Graphviz.
 * Output depends only on the topology, never on the time, the machine or map order.
 */
import { basename } from 'node:path';
import type { StageDecl, TopicDecl, Topology } from './model.ts';
import { formatRetention } from './shape.ts';

export type GraphFormat = 'mermaid' | 'dot';

export function describeTopology(t: Topology): string {
  const lines = [`Topology: ${t.name} (${basename(t.file)})`];
  if (t.description) lines.push(`  ${t.description}`);
  lines.push('Topics:');
  const topics = [...t.topics.values()];
  const width = Math.max(0, ...topics.map((topic) => topic.name.length));
  for (const topic of topics) lines.push(`  ${topic.name.padEnd(width)}  ${topicFacts(topic)}`);
  lines.push('Stages:');
  for (const stage of t.stages) {
    const sink = stage.to.length === 0 ? ', sink' : '';
    const retry = stage.retryLoop ? ', retry loop' : '';
    lines.push(`  Stage: ${stage.name} (processor: ${stage.processor}${sink}${retry})`);
    lines.push(`    <-- ${stage.from} [${schemaOf(t, stage.from)}]`);
    for (const to of stage.to) lines.push(`    --> ${to} [${schemaOf(t, to)}]`);
    if (stage.deadLetter) lines.push(`    --> ${stage.deadLetter} [dead letter]`);
    if (stage.waitUntil) lines.push(`    waits until: ${stage.waitUntil}`);
    lines.push(`    config: ${stableJson(stage.config)}`);
  }
  return `${lines.join('\n')}\n`;
}

function topicFacts(topic: TopicDecl): string {
  const facts = [`schema=${topic.schema}`, `key=${topic.key}`, `partitions=${topic.partitions}`];
  if (topic.retentionMs !== undefined) facts.push(`retention=${formatRetention(topic.retentionMs)}`);
  if (topic.replicationFactor !== undefined) facts.push(`replicationFactor=${topic.replicationFactor}`);
  if (topic.minInsyncReplicas !== undefined) facts.push(`minInsyncReplicas=${topic.minInsyncReplicas}`);
  if (topic.source) facts.push(`source=${topic.source}`);
  if (topic.sink) facts.push(`sink=${topic.sink}`);
  return facts.join(' ');
}

function schemaOf(t: Topology, topic: string): string {
  return t.topics.get(topic)?.schema ?? '?';
}

/** JSON with object keys sorted, so the same config always prints the same. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export function graphTopology(t: Topology, format: GraphFormat): string {
  return graphTopologies([t], format);
}

interface Graph {
  readonly topics: { id: string; topic: TopicDecl }[];
  readonly groups: { name: string; stages: { id: string; stage: StageDecl }[] }[];
  readonly edges: { from: string; to: string; kind: 'data' | 'dead-letter' }[];
  readonly external: { sources: string[]; sinks: string[] };
}

/**
 * Several topologies in one picture: a topic named in more than one file is one node; with more
 * than one topology each one's stages are grouped in a box.
 */
export function graphTopologies(ts: readonly Topology[], format: GraphFormat): string {
  const graph = buildGraph(ts);
  return format === 'mermaid' ? mermaid(graph, ts.length > 1) : dot(graph, ts.length > 1);
}

function buildGraph(ts: readonly Topology[]): Graph {
  const topicIds = new Map<string, string>();
  const topics: Graph['topics'] = [];
  const external: Graph['external'] = { sources: [], sinks: [] };
  for (const t of ts) {
    for (const topic of t.topics.values()) {
      if (topicIds.has(topic.name)) continue;
      const id = `t${topics.length}`;
      topicIds.set(topic.name, id);
      topics.push({ id, topic });
      if (topic.source) external.sources.push(id);
      if (topic.sink) external.sinks.push(id);
    }
  }
  const edges: Graph['edges'] = [];
  const groups = ts.map((t, g) => ({
    name: t.name,
    stages: t.stages.map((stage, i) => {
      const id = `s${g}_${i}`;
      edges.push({ from: topicIds.get(stage.from) as string, to: id, kind: 'data' });
      for (const to of stage.to) edges.push({ from: id, to: topicIds.get(to) as string, kind: 'data' });
      if (stage.deadLetter) edges.push({ from: id, to: topicIds.get(stage.deadLetter) as string, kind: 'dead-letter' });
      return { id, stage };
    }),
  }));
  return { topics, groups, edges, external };
}

function stageLabel(stage: StageDecl): string {
  return stage.processor === stage.name ? stage.name : `${stage.name} (${stage.processor})`;
}

function mermaid(graph: Graph, grouped: boolean): string {
  const lines = ['flowchart LR'];
  if (graph.external.sources.length > 0) lines.push('  outside_in(["outside"])');
  for (const { id, topic } of graph.topics) lines.push(`  ${id}[("${topic.name}<br/>${topic.schema}")]`);
  graph.groups.forEach((group, g) => {
    const indent = grouped ? '    ' : '  ';
    if (grouped) lines.push(`  subgraph topology_${g}["${group.name}"]`);
    for (const { id, stage } of group.stages) lines.push(`${indent}${id}["${stageLabel(stage)}"]`);
    if (grouped) lines.push('  end');
  });
  if (graph.external.sinks.length > 0) lines.push('  outside_out(["outside"])');
  for (const id of graph.external.sources) lines.push(`  outside_in --> ${id}`);
  for (const e of graph.edges) lines.push(e.kind === 'data' ? `  ${e.from} --> ${e.to}` : `  ${e.from} -.->|dead letter| ${e.to}`);
  for (const id of graph.external.sinks) lines.push(`  ${id} --> outside_out`);
  return `${lines.join('\n')}\n`;
}

function dot(graph: Graph, grouped: boolean): string {
  const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const q = (s: string): string => `"${esc(s)}"`;
  const lines = ['digraph sluice {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=11];'];
  if (graph.external.sources.length > 0) lines.push('  outside_in [label="outside", shape=plaintext];');
  if (graph.external.sinks.length > 0) lines.push('  outside_out [label="outside", shape=plaintext];');
  for (const { id, topic } of graph.topics) lines.push(`  ${id} [label="${esc(topic.name)}\\n${esc(topic.schema)}", shape=cylinder];`);
  graph.groups.forEach((group, g) => {
    const indent = grouped ? '    ' : '  ';
    if (grouped) lines.push(`  subgraph cluster_${g} {`, `    label=${q(group.name)};`);
    for (const { id, stage } of group.stages) lines.push(`${indent}${id} [label=${q(stageLabel(stage))}, shape=box, style=rounded];`);
    if (grouped) lines.push('  }');
  });
  for (const id of graph.external.sources) lines.push(`  outside_in -> ${id};`);
  for (const e of graph.edges) lines.push(e.kind === 'data' ? `  ${e.from} -> ${e.to};` : `  ${e.from} -> ${e.to} [style=dashed, label="dead letter"];`);
  for (const id of graph.external.sinks) lines.push(`  ${id} -> outside_out;`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
