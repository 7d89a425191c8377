/** The one error a topology file can fail with: every problem found, each with its position. */

export interface TopologyProblem {
  readonly file: string;
  /** 1-based; 0 when the problem has no place in the file (e.g. the file cannot be read). */
  readonly line: number;
  readonly column: number;
  readonly what: string;
}

export class TopologyError extends Error {
  readonly errors: readonly TopologyProblem[];

  constructor(errors: readonly TopologyProblem[]) {
    const sorted = [...errors].sort(compareProblems);
    super(formatProblems(sorted));
    this.name = 'TopologyError';
    this.errors = Object.freeze(sorted.map((e) => Object.freeze({ ...e })));
  }
}

function compareProblems(a: TopologyProblem, b: TopologyProblem): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column;
}

function formatProblems(errors: readonly TopologyProblem[]): string {
  const n = errors.length;
  const lines = errors.map((e) => `  ${e.file}:${e.line}:${e.column} ${e.what}`);
  return [`Invalid topology: ${n} problem${n === 1 ? '' : 's'}`, ...lines].join('\n');
}
