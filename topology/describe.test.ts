import { beforeAll, describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { describeTopology, graphTopologies, graphTopology } from './describe.ts';
import { loadTopology, parseTopology } from './loader.ts';
import type { ProcessorRegistry } from './loader.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

// STYLE.md §4: every topology file has a snapshot of its description, so that a change to the
// graph shows up in review. Loaded with the real processor registry.
describe('snapshots of topology/*.yaml', () => {
  let processors: ProcessorRegistry;
  beforeAll(async () => {
    processors = (await import('../processors/index.ts')).PROCESSORS;
  });

  const files = fs.readdirSync(here).filter((f) => f.endsWith('.yaml')).sort();
  it('includes inbound.yaml', () => {
    expect(files).toContain('inbound.yaml');
  });
  for (const file of files) {
    it(`${file}: describe and mermaid`, () => {
      const t = loadTopology(path.join(here, file), processors);
      expect(describeTopology(t)).toMatchSnapshot();
      expect(graphTopology(t, 'mermaid')).toMatchSnapshot();
    });
  }
});

const spec = (input: string, output: string | null, config: z.ZodType = z.object({})) => ({
  spec: { description: 'test', input, output, config },
});
const PROCESSORS: ProcessorRegistry = new Map([
  ['parse', spec('MailReceived', 'ParsedMail', z.object({ maxText: z.number().default(1000), mode: z.string().default('fast') }))],
  ['store', spec('ParsedMail', null)],
  ['requeue', spec('MailReceived', 'MailReceived')],
]);
const SMALL = `name: small
description: Two stages.
topics:
  in:
    schema: MailReceived
    key: userId
    partitions: 4
    retention: 7d
    replicationFactor: 3
    minInsyncReplicas: 2
    source: external
  parsed:
    schema: ParsedMail
    key: userId
    partitions: 4
    retention: 36h
    sink: external
  parse.dlq:
    schema: DeadLetter
    key: userId
    partitions: 1
    retention: forever
stages:
  - name: parse
    processor: parse
    from: in
    to: parsed
    deadLetter: parse.dlq
    config:
      mode: "slow \\"careful\\""
  - name: keep
    processor: store
    from: parsed
`;

describe('describeTopology and graphTopology', () => {
  const t = parseTopology(SMALL, 'topology/small.yaml', PROCESSORS);

  it('describes topics and stages in file order', () => {
    expect(describeTopology(t)).toBe(`Topology: small (small.yaml)
  Two stages.
Topics:
  in         schema=MailReceived key=userId partitions=4 retention=7d replicationFactor=3 minInsyncReplicas=2 source=external
  parsed     schema=ParsedMail key=userId partitions=4 retention=36h sink=external
  parse.dlq  schema=DeadLetter key=userId partitions=1 retention=forever
Stages:
  Stage: parse (processor: parse)
    <-- in [MailReceived]
    --> parsed [ParsedMail]
    --> parse.dlq [dead letter]
    config: {"maxText":1000,"mode":"slow \\"careful\\""}
  Stage: keep (processor: store, sink)
    <-- parsed [ParsedMail]
    config: {}
`);
  });

  it('draws mermaid', () => {
    expect(graphTopology(t, 'mermaid')).toBe(`flowchart LR
  outside_in(["outside"])
  t0[("in<br/>MailReceived")]
  t1[("parsed<br/>ParsedMail")]
  t2[("parse.dlq<br/>DeadLetter")]
  s0_0["parse"]
  s0_1["keep (store)"]
  outside_out(["outside"])
  outside_in --> t0
  t0 --> s0_0
  s0_0 --> t1
  s0_0 -.->|dead letter| t2
  t1 --> s0_1
  t1 --> outside_out
`);
  });

  it('draws dot', () => {
    expect(graphTopology(t, 'dot')).toBe(`digraph sluice {
  rankdir=LR;
  node [fontname="Helvetica", fontsize=11];
  outside_in [label="outside", shape=plaintext];
  outside_out [label="outside", shape=plaintext];
  t0 [label="in\\nMailReceived", shape=cylinder];
  t1 [label="parsed\\nParsedMail", shape=cylinder];
  t2 [label="parse.dlq\\nDeadLetter", shape=cylinder];
  s0_0 [label="parse", shape=box, style=rounded];
  s0_1 [label="keep (store)", shape=box, style=rounded];
  outside_in -> t0;
  t0 -> s0_0;
  s0_0 -> t1;
  s0_0 -> t2 [style=dashed, label="dead letter"];
  t1 -> s0_1;
  t1 -> outside_out;
}
`);
  });

  it('draws several topologies in one picture, a shared topic once, each topology in a box', () => {
    const other = parseTopology(
      'name: retry\ntopics:\n  in:\n    schema: MailReceived\n    key: userId\n    partitions: 4\n    source: external\n' +
        'stages:\n  - name: again\n    processor: requeue\n    from: in\n    to: in\n    retry: true\n',
      'topology/retry.yaml',
      PROCESSORS,
    );
    const mermaid = graphTopologies([t, other], 'mermaid');
    expect(mermaid.match(/\[\("in<br\/>/g)).toHaveLength(1);
    expect(mermaid).toContain('  subgraph topology_0["small"]\n    s0_0["parse"]\n    s0_1["keep (store)"]\n  end\n');
    expect(mermaid).toContain('  subgraph topology_1["retry"]\n    s1_0["again (requeue)"]\n  end\n');
    expect(mermaid).toContain('  t0 --> s1_0\n  s1_0 --> t0\n');
    const dot = graphTopologies([t, other], 'dot');
    expect(dot).toContain('  subgraph cluster_1 {\n    label="retry";\n    s1_0 [label="again (requeue)", shape=box, style=rounded];\n  }\n');
    expect(describeTopology(other)).toContain('Stage: again (processor: requeue, retry loop)');
  });

  it('is the same text every time', () => {
    const again = parseTopology(SMALL, 'elsewhere/small.yaml', PROCESSORS);
    expect(describeTopology(again)).toBe(describeTopology(t));
    expect(graphTopology(again, 'dot')).toBe(graphTopology(t, 'dot'));
  });
});
