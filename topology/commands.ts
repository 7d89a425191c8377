/**
 * What `sluice topology check | graph | describe` print. Each takes the topology folder and
 * returns text; the CLI (`ops/cli.ts`) only prints it and sets the exit code.
 */
import { spawnSync } from 'node:child_process';
import { PROCESSORS } from '../processors/index.ts';
import { graphTopologies, describeTopology } from './describe.ts';
import { TopologyError } from './errors.ts';
import { loadTopologies } from './loader.ts';
import type { ProcessorRegistry } from './loader.ts';

export type GraphOutput = 'mermaid' | 'dot' | 'svg';

export interface CommandOptions {
  /** The processor registry; default `processors/index.ts`. */
  readonly processors?: ProcessorRegistry;
  /** The Graphviz command for `svg`; default `dot` on PATH. */
  readonly dot?: string;
}

/** Checks every `*.yaml` in `dir`; never throws for a bad topology, it reports it. */
export function topologyCheck(dir: string, options: CommandOptions = {}): { ok: boolean; text: string } {
  try {
    const topologies = loadTopologies(dir, options.processors ?? PROCESSORS);
    const lines = topologies.map((t) => `${t.file}: ok (${t.name}: ${t.topics.size} topics, ${t.stages.length} stages)`);
    return { ok: true, text: `${lines.join('\n')}\n` };
  } catch (err) {
    if (err instanceof TopologyError) return { ok: false, text: `${err.message}\n` };
    throw err;
  }
}

/** Throws `TopologyError` if the topologies are invalid, or an `Error` if `svg` has no Graphviz. */
export function topologyGraph(dir: string, format: GraphOutput, options: CommandOptions = {}): string {
  const topologies = loadTopologies(dir, options.processors ?? PROCESSORS);
  if (format !== 'svg') return graphTopologies(topologies, format);
  return renderSvg(graphTopologies(topologies, 'dot'), options.dot ?? 'dot');
}

export function topologyDescribe(dir: string, options: CommandOptions = {}): string {
  return loadTopologies(dir, options.processors ?? PROCESSORS)
    .map(describeTopology)
    .join('\n');
}

function renderSvg(dotText: string, command: string): string {
  const run = spawnSync(command, ['-Tsvg'], { input: dotText, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const code = (run.error as NodeJS.ErrnoException | undefined)?.code;
  // EPIPE: the command exited without reading all its input; its exit status says why.
  if (run.error && !(code === 'EPIPE' && run.status !== null)) {
    const missing = code === 'ENOENT';
    throw new Error(
      missing
        ? `--format svg needs Graphviz: "${command}" is not on PATH. Install it with: sudo apt-get install graphviz (or use --format dot / mermaid)`
        : `Graphviz "${command}" failed to start: ${run.error.message}`,
    );
  }
  if (run.status !== 0) throw new Error(`Graphviz "${command}" exited with ${run.status}: ${run.stderr.trim()}`);
  return run.stdout;
}
