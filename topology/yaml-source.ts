/**
 * A YAML document that remembers where each value was written, so that every problem found in a
 * topology file can point at its line and column.
 */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { TopologyProblem } from './errors.ts';

export type Path = readonly (string | number)[];

export interface Position {
  readonly line: number;
  readonly column: number;
  /** False when the path does not exist and the position is that of its nearest ancestor. */
  readonly exact: boolean;
}

export class YamlSource {
  readonly file: string;
  /** The plain JavaScript value of the document (null for an empty file). */
  readonly value: unknown;
  /** YAML syntax errors (duplicate keys, bad indentation …), already positioned. */
  readonly syntaxProblems: readonly TopologyProblem[];
  readonly #lines = new LineCounter();
  readonly #doc;

  constructor(text: string, file: string) {
    this.file = file;
    this.#doc = parseDocument(text, { lineCounter: this.#lines, prettyErrors: false, uniqueKeys: true });
    this.syntaxProblems = this.#doc.errors.map((e) => this.#problemAtOffset(e.pos[0], e.message));
    this.value = this.#doc.errors.length === 0 ? (this.#doc.toJS({ maxAliasCount: 100 }) as unknown) : null;
  }

  /** Where the value at `path` is written (or, with `key`, the key of its entry in a map). */
  at(path: Path, options: { key?: boolean } = {}): Position {
    let node: unknown = this.#doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      let next: unknown;
      let keyOffset: number | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
        if (pair) {
          next = pair.value;
          keyOffset = rangeStart(pair.key);
        }
      } else if (isSeq(node) && typeof segment === 'number') {
        next = node.items[segment];
      }
      if (next === undefined && keyOffset === undefined) return { ...this.#linePos(offset), exact: false };
      const last = i === path.length - 1;
      offset = (last && options.key ? keyOffset : rangeStart(next)) ?? keyOffset ?? offset;
      node = next;
    }
    return { ...this.#linePos(offset), exact: true };
  }

  problem(path: Path, what: string, options: { key?: boolean } = {}): TopologyProblem {
    const { line, column } = this.at(path, options);
    return { file: this.file, line, column, what };
  }

  #problemAtOffset(offset: number, what: string): TopologyProblem {
    return { file: this.file, ...this.#linePos(offset), what };
  }

  #linePos(offset: number): { line: number; column: number } {
    const { line, col } = this.#lines.linePos(offset);
    return { line, column: col };
  }
}

function rangeStart(node: unknown): number | undefined {
  if (node && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: readonly number[] | null }).range;
    if (range) return range[0];
  }
  return undefined;
}
