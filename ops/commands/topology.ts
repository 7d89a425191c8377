/** `sluice topology check | graph [--format mermaid|dot|svg] | describe`. */
import { topologyCheck, topologyDescribe, topologyGraph } from '../../topology/commands.ts';
import { configFrom, parse, UsageError, type Command } from './common.ts';

export const topologyCommand: Command = {
  name: 'topology',
  usage: 'topology check | graph [--format mermaid|dot|svg] | describe',
  summary: 'validate, draw or describe the topology files',
  async run(args) {
    const { values, positionals } = parse(args, { format: { type: 'string' }, dir: { type: 'string' } });
    const dir = values.dir ?? configFrom(values).topology.dir;
    switch (positionals[0]) {
      case 'check': {
        const result = topologyCheck(dir);
        (result.ok ? process.stdout : process.stderr).write(result.text.endsWith('\n') ? result.text : result.text + '\n');
        return result.ok ? 0 : 1;
      }
      case 'graph': {
        const format = values.format ?? 'mermaid';
        if (format !== 'mermaid' && format !== 'dot' && format !== 'svg') throw new UsageError(`unknown format ${format}`);
        const out = await topologyGraph(dir, format);
        process.stdout.write(out.endsWith('\n') ? out : out + '\n');
        return 0;
      }
      case 'describe': {
        const out = topologyDescribe(dir);
        process.stdout.write(out.endsWith('\n') ? out : out + '\n');
        return 0;
      }
      default:
        throw new UsageError('expected check, graph or describe');
    }
  },
};
