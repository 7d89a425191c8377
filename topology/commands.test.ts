import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { topologyCheck, topologyDescribe, topologyGraph } from './commands.ts';
import { TopologyError } from './errors.ts';
import type { ProcessorRegistry } from './loader.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

const spec = (input: string, output: string | null) => ({ spec: { description: 'test', input, output, config: z.object({}) } });
const processors: ProcessorRegistry = new Map([
  ['parse', spec('MailReceived', 'ParsedMail')],
  ['keep', spec('ParsedMail', null)],
]);
const SMALL = `name: small
topics:
  in: { schema: MailReceived, key: userId, partitions: 2, source: external }
  parsed: { schema: ParsedMail, key: userId, partitions: 2, retention: 1d }
stages:
  - { name: parse, processor: parse, from: in, to: parsed }
  - { name: keep, processor: keep, from: parsed }
`;

function folder(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('sluice topology check', () => {
  it('says ok for each valid file', () => {
    const dir = folder({ 'small.yaml': SMALL });
    expect(topologyCheck(dir, { processors })).toEqual({ ok: true, text: `${path.join(dir, 'small.yaml')}: ok (small: 2 topics, 2 stages)\n` });
  });

  it('lists every problem, with its place, for an invalid file', () => {
    const dir = folder({ 'small.yaml': SMALL.replace('processor: keep', 'processor: kept') });
    const { ok, text } = topologyCheck(dir, { processors });
    expect(ok).toBe(false);
    expect(text).toBe(`Invalid topology: 1 problem\n  ${path.join(dir, 'small.yaml')}:7:30 stage "keep": unknown processor "kept" (known: keep, parse)\n`);
  });

  it('passes the topologies in topology/ with the real processor registry', () => {
    const result = topologyCheck(here);
    expect(result.text).toContain('inbound.yaml: ok (inbound: ');
    expect(result.ok).toBe(true);
  });
});

describe('sluice topology describe | graph', () => {
  const dir = folder({ 'small.yaml': SMALL });

  it('describes', () => {
    expect(topologyDescribe(dir, { processors })).toContain('Stage: parse (processor: parse)\n    <-- in [MailReceived]\n    --> parsed [ParsedMail]\n');
  });

  it('draws mermaid and dot', () => {
    expect(topologyGraph(dir, 'mermaid', { processors })).toMatch(/^flowchart LR\n/);
    expect(topologyGraph(dir, 'dot', { processors })).toMatch(/^digraph sluice \{\n[^]*\n\}\n$/);
  });

  it('renders svg by piping the dot text through Graphviz', () => {
    // A stand-in for Graphviz `dot -Tsvg`: checks its argument and wraps what it reads.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
    const fake = path.join(bin, 'fake-dot');
    fs.writeFileSync(fake, '#!/bin/sh\n[ "$1" = "-Tsvg" ] || exit 2\nprintf "<svg>"\ncat\nprintf "</svg>"\n', { mode: 0o755 });
    const svg = topologyGraph(dir, 'svg', { processors, dot: fake });
    expect(svg).toBe(`<svg>${topologyGraph(dir, 'dot', { processors })}</svg>`);
  });

  it('says how to install Graphviz when dot is missing', () => {
    expect(() => topologyGraph(dir, 'svg', { processors, dot: 'sluice-no-such-dot' })).toThrow(
      /"sluice-no-such-dot" is not on PATH\. Install it with: sudo apt-get install graphviz/,
    );
  });

  it('reports a Graphviz failure', () => {
    expect(() => topologyGraph(dir, 'svg', { processors, dot: 'false' })).toThrow(/Graphviz "false" exited with 1/);
  });

  it('throws the TopologyError for an invalid folder', () => {
    const bad = folder({ 'small.yaml': SMALL.replace('to: parsed', 'to: parsd') });
    expect(() => topologyGraph(bad, 'dot', { processors })).toThrow(TopologyError);
    expect(() => topologyDescribe(bad, { processors })).toThrow(/Invalid topology: /);
  });
});
