import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { loadTopologies, loadTopology, parseTopology } from './loader.ts';
import type { ProcessorRegistry } from './loader.ts';
import { TopologyError } from './errors.ts';
import type { TopologyProblem } from './errors.ts';

// Test processors with real schema names; only their specs matter to the loader.
const spec = (input: string, output: string | null, config: z.ZodType = z.object({})) => ({
  spec: { description: 'test', input, output, config },
});
const PROCESSORS: ProcessorRegistry = new Map([
  ['parse', spec('MailReceived', 'ParsedMail')],
  ['split', spec('ParsedMail', 'MailboxCommand', z.strictObject({ threshold: z.number().int().positive().default(1024), mode: z.string().default('blob') }))],
  ['store', spec('MailboxCommand', 'MailboxEvent')],
  ['index', spec('MailboxEvent', null)],
  ['unparse', spec('ParsedMail', 'MailReceived')],
  ['requeue', spec('MailReceived', 'MailReceived')],
]);

const FILE = 'topology/test.yaml';
const BASE = `name: test
description: A small test topology.
topics:
  in:
    schema: MailReceived
    key: userId
    partitions: 2
    retention: 12h
    source: external
  parsed:
    schema: ParsedMail
    key: userId
    partitions: 2
  commands:
    schema: MailboxCommand
    key: userId
    partitions: 2
    retention: 30m
  events:
    schema: MailboxEvent
    key: userId
    partitions: 2
  dlq:
    schema: DeadLetter
    key: userId
    partitions: 1
stages:
  - name: parse
    processor: parse
    from: in
    to: parsed
    deadLetter: dlq
  - name: split
    processor: split
    from: parsed
    to: [commands]
    config:
      threshold: 2048
  - name: store
    processor: store
    from: commands
    to: events
  - name: index
    processor: index
    from: events
`;

/**
 * 1-based line and column of the n-th occurrence of `needle` in `text`; in `from: «in»` the
 * place is that of `in`, found after `from: `.
 */
function where(text: string, needle: string, nth = 1): { line: number; column: number } {
  const [prefix, target] = needle.includes('«') ? needle.replace('»', '').split('«') : ['', needle];
  let index = -1;
  for (let i = 0; i < nth; i++) {
    index = text.indexOf(prefix + target, index + 1);
    if (index < 0) throw new Error(`not in the text: ${needle}`);
  }
  index += prefix.length;
  const before = text.slice(0, index).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

function problems(text: string): readonly TopologyProblem[] {
  try {
    parseTopology(text, FILE, PROCESSORS);
  } catch (err) {
    expect(err).toBeInstanceOf(TopologyError);
    return (err as TopologyError).errors;
  }
  throw new Error('expected the topology to be rejected');
}

/** The one problem whose message contains `fragment`, checked to be at `needle` in `text`. */
function expectProblem(text: string, fragment: string, needle: string, nth = 1): TopologyProblem {
  const found = problems(text).filter((p) => p.what.includes(fragment));
  expect(found, `problems: ${JSON.stringify(problems(text))}`).toHaveLength(1);
  expect(found[0]).toEqual({ file: FILE, ...where(text, needle, nth), what: found[0].what });
  return found[0];
}

describe('loadTopology: a valid file', () => {
  it('gives the topics and stages in file order, with parsed retention, lists and config defaults', () => {
    const t = parseTopology(BASE, FILE, PROCESSORS);
    expect(t.name).toBe('test');
    expect(t.description).toBe('A small test topology.');
    expect(t.file).toBe(FILE);
    expect([...t.topics.keys()]).toEqual(['in', 'parsed', 'commands', 'events', 'dlq']);
    expect(t.topics.get('in')).toEqual({ name: 'in', schema: 'MailReceived', key: 'userId', partitions: 2, retentionMs: 12 * 3_600_000, source: 'external' });
    expect(t.topics.get('commands')?.retentionMs).toBe(30 * 60_000);
    expect(t.topics.get('dlq')?.retentionMs).toBeUndefined();
    expect(t.stages.map((s) => s.name)).toEqual(['parse', 'split', 'store', 'index']);
    expect(t.stages[0]).toEqual({ name: 'parse', processor: 'parse', from: 'in', to: ['parsed'], deadLetter: 'dlq', config: {} });
    expect(t.stages[1].to).toEqual(['commands']);
    expect(t.stages[1].config).toEqual({ threshold: 2048, mode: 'blob' });
    expect(t.stages[3].to).toEqual([]);
  });

  it('is deeply frozen', () => {
    const t = parseTopology(BASE, FILE, PROCESSORS);
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t.stages)).toBe(true);
    expect(Object.isFrozen(t.stages[1])).toBe(true);
    expect(Object.isFrozen(t.stages[1].to)).toBe(true);
    expect(Object.isFrozen(t.stages[1].config)).toBe(true);
    expect(Object.isFrozen(t.topics.get('in'))).toBe(true);
    const topics = t.topics as Map<string, unknown>;
    expect(() => topics.set('x', {})).toThrow(/frozen/);
    expect(() => topics.delete('in')).toThrow(/frozen/);
    expect(() => topics.clear()).toThrow(/frozen/);
    expect(t.topics.size).toBe(5);
  });

  it('loads from a file and a folder of *.yaml files, in name order', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
    fs.writeFileSync(path.join(dir, 'b.yaml'), BASE);
    fs.writeFileSync(path.join(dir, 'a.yaml'), BASE.replace('name: test', 'name: other'));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a topology');
    expect(loadTopology(path.join(dir, 'b.yaml'), PROCESSORS).name).toBe('test');
    expect(loadTopologies(dir, PROCESSORS).map((t) => t.name)).toEqual(['other', 'test']);
  });
});

describe('loadTopology: each kind of problem, with its place', () => {
  it('unknown processor', () => {
    const text = BASE.replace('processor: store', 'processor: stroe');
    const p = expectProblem(text, 'unknown processor', 'stroe');
    expect(p.what).toBe('stage "store": unknown processor "stroe" (known: index, parse, requeue, split, store, unparse)');
  });

  it('unknown topic', () => {
    const text = BASE.replace('to: [commands]', 'to: [commands, comands]');
    const p = expectProblem(text, 'not declared', 'comands]');
    expect(p.what).toBe('stage "split": topic "comands" is not declared under topics:');
  });

  it('schema mismatch: the processor cannot read the topic it consumes', () => {
    // The split processor reads ParsedMail; topic "in" carries MailReceived.
    const text = BASE.replace('from: parsed', 'from: in').replace('  - name: index', '  - name: unparsed\n    processor: index\n    from: parsed\n  - name: index');
    const p = expectProblem(text, 'reads ParsedMail', 'from: «in»', 2);
    expect(p.what).toMatch(/^stage "split": processor "split" reads ParsedMail but topic "in" carries MailReceived: /);
  });

  it('schema mismatch: the topic cannot hold what the processor writes', () => {
    // The store processor writes MailboxEvent; topic "parsed" carries ParsedMail.
    const text = BASE.replace('    to: events', '    to: [events, parsed]');
    const p = expectProblem(text, 'writes MailboxEvent', 'parsed]');
    expect(p.what).toMatch(/^stage "store": processor "store" writes MailboxEvent but topic "parsed" carries ParsedMail: /);
  });

  it('a cycle between stages', () => {
    const text = BASE.replace('stages:\n', 'stages:\n  - name: unparse\n    processor: unparse\n    from: parsed\n    to: in\n');
    const p = expectProblem(text, 'cycle', 'name: «unparse»');
    expect(p.what).toBe('cycle through stages "unparse" → "parse" → "unparse"; only a stage with retry: true may feed its own input');
  });

  it('a stage feeding its own input is a cycle', () => {
    const text = `${BASE}  - name: requeue\n    processor: requeue\n    from: in\n    to: in\n`;
    const p = expectProblem(text, 'cycle', 'name: «requeue»');
    expect(p.what).toContain('"requeue" → "requeue"');
  });

  it('a declared retry loop is allowed, and a retry declaration without a loop is not', () => {
    const loop = BASE.replace('stages:\n', 'stages:\n  - name: unparse\n    processor: unparse\n    from: parsed\n    to: in\n    retry: true\n');
    expect(parseTopology(loop, FILE, PROCESSORS).stages[0].retryLoop).toBe(true);
    const self = `${BASE}  - name: requeue\n    processor: requeue\n    from: in\n    to: in\n    retry: true\n`;
    expect(parseTopology(self, FILE, PROCESSORS).stages[4].retryLoop).toBe(true);
    const idle = BASE.replace('    to: events\n', '    to: events\n    retry: true\n');
    const p = expectProblem(idle, 'declares retry', 'true');
    expect(p.what).toBe('stage "store" declares retry: true but none of its outputs leads back to its input "commands"');
  });

  it('a stage may set its own linger', () => {
    const text = BASE.replace('    to: events\n', '    to: events\n    linger: 0ms\n');
    const topology = parseTopology(text, FILE, PROCESSORS);
    expect(topology.stages.find((s) => s.name === 'store')!.lingerMs).toBe(0);
    expect(topology.stages.find((s) => s.name === 'index')!.lingerMs).toBeUndefined();
    const p = expectProblem(BASE.replace('    to: events\n', '    to: events\n    linger: soon\n'), 'linger', 'soon');
    expect(p.what).toContain('duration');
  });

  it('waitUntil names a timestamp (long) field of the input schema', () => {
    // `in` carries MailReceived: receivedAt is a timestamp, recipient a string.
    const ok = BASE.replace('    to: parsed\n', '    to: parsed\n    waitUntil: receivedAt\n');
    expect(parseTopology(ok, FILE, PROCESSORS).stages[0].waitUntil).toBe('receivedAt');
    const p = expectProblem(BASE.replace('    to: parsed\n', '    to: parsed\n    waitUntil: recipient\n'), 'waitUntil', 'recipient');
    expect(p.what).toBe('stage "parse": waitUntil: "recipient" is not a long (timestamp) field of MailReceived');
  });

  it('a topic nobody writes', () => {
    const text = BASE.replace('    source: external\n', '');
    const p = expectProblem(text, 'no stage writes', 'in:');
    expect(p.what).toBe('topic "in": no stage writes it (if something outside the topology does, mark it source: external)');
  });

  it('a topic nobody reads, unless it is a dead-letter topic or marked sink: external', () => {
    const text = BASE.replace('  - name: index\n    processor: index\n    from: events\n', '');
    const p = expectProblem(text, 'no stage reads', 'events:');
    expect(p.what).toBe('topic "events": no stage reads it (if something outside the topology does, mark it sink: external)');
    expect(parseTopology(text.replace('  events:\n', '  events:\n    sink: external\n'), FILE, PROCESSORS).topics.get('events')?.sink).toBe('external');
  });

  it('a topic nobody reads or writes', () => {
    const text = BASE.replace('  dlq:\n', '  spare:\n    schema: MailboxEvent\n    key: userId\n    partitions: 1\n  dlq:\n');
    const p = expectProblem(text, 'no stage reads or writes', 'spare:');
    expect(p.what).toBe('topic "spare" is declared but no stage reads or writes it');
  });

  it('bad config', () => {
    const text = BASE.replace('threshold: 2048', 'threshold: -5');
    const p = expectProblem(text, 'config.threshold', '-5');
    expect(p.what).toMatch(/^stage "split": config\.threshold: .*>0/);
  });

  it('an unknown config key', () => {
    const text = BASE.replace('threshold: 2048', 'threshold: 2048\n      treshold: 1');
    const p = expectProblem(text, 'unknown key', 'treshold');
    expect(p.what).toBe('stage "split": config: unknown key "treshold"');
  });

  it('duplicate stage name', () => {
    const text = BASE.replace('  - name: store', '  - name: parse');
    const p = expectProblem(text, 'duplicate', 'name: «parse»', 2);
    expect(p.what).toBe(`stage "parse": duplicate stage name (first declared at line ${where(text, 'name: parse').line})`);
  });

  it('a sink with to:, and a stage without to: whose processor has output', () => {
    const sinkWithTo = BASE.replace('    from: events\n', '    from: events\n    to: dlq\n');
    expectProblem(sinkWithTo, 'is a sink', 'to: «dlq»');
    const noTo = BASE.replace('    to: events\n', '');
    const p = expectProblem(noTo, 'needs a to:', 'name: «store»');
    expect(p.what).toBe('stage "store": processor "store" writes MailboxEvent, so the stage needs a to: topic');
  });

  it('a dead-letter topic must carry DeadLetter', () => {
    const text = BASE.replace('deadLetter: dlq', 'deadLetter: parsed');
    const p = expectProblem(text, 'dead-letter', 'deadLetter: «parsed»');
    expect(p.what).toBe('stage "parse": dead-letter topic "parsed" must have schema DeadLetter, not ParsedMail');
  });

  it('an unknown schema, and minInsyncReplicas above replicationFactor', () => {
    const text = BASE.replace('schema: MailboxEvent', 'schema: MailboxEvnt').replace('    retention: 30m\n', '    retention: 30m\n    replicationFactor: 3\n    minInsyncReplicas: 4\n');
    expect(expectProblem(text, 'unknown schema', 'MailboxEvnt').what).toMatch(/^topic "events": unknown schema "MailboxEvnt" \(known: .*MailboxEvent/);
    expect(expectProblem(text, 'minInsyncReplicas', '4').what).toBe('topic "commands": minInsyncReplicas 4 is more than replicationFactor 3');
  });
});

describe('loadTopology: YAML and shape problems', () => {
  it('reports YAML syntax errors with their place', () => {
    const text = BASE.replace('  parsed:\n', '  in:\n');
    const [p] = problems(text);
    expect(p).toMatchObject({ file: FILE, ...where(text, 'in:', 2) });
    expect(p.what).toMatch(/unique/);
  });

  it('reports unknown keys, missing fields, wrong types and bad durations, all at once', () => {
    const text = BASE.replace('deadLetter: dlq', 'deadleter: dlq')
      .replace('    from: commands\n', '')
      .replace('partitions: 1', 'partitions: one')
      .replace('retention: 12h', 'retention: 12 hours');
    const found = problems(text);
    expect(found.map((p) => [p.line, p.column, p.what])).toEqual([
      [...Object.values(where(text, '12 hours')), 'topic "in": retention: must be a duration like 30m, 12h, 7d, 2w, or "forever"'],
      [...Object.values(where(text, 'one')), expect.stringMatching(/^topic "dlq": partitions: .*number/)],
      [...Object.values(where(text, 'deadleter')), 'stage "parse": unknown key "deadleter"'],
      [...Object.values(where(text, 'name: store')), 'stage "store": from: required'],
    ]);
  });

  it('formats every problem into one TopologyError message', () => {
    const text = BASE.replace('processor: store', 'processor: nope').replace('to: parsed', 'to: parsd');
    let error: unknown;
    try {
      parseTopology(text, FILE, PROCESSORS);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TopologyError);
    const lines = (error as TopologyError).message.split('\n');
    expect(lines[0]).toMatch(/^Invalid topology: \d+ problems$/);
    expect(lines).toContain(`  ${FILE}:${where(text, 'parsd').line}:${where(text, 'parsd').column} stage "parse": topic "parsd" is not declared under topics:`);
    expect(lines).toContain(`  ${FILE}:${where(text, 'nope').line}:${where(text, 'nope').column} stage "store": unknown processor "nope" (known: index, parse, requeue, split, store, unparse)`);
    expect(lines.length - 1).toBe((error as TopologyError).errors.length);
  });

  it('an empty file is a shape problem at 1:1', () => {
    expect(problems('')).toEqual([{ file: FILE, line: 1, column: 1, what: expect.stringContaining('object') }]);
  });
});

describe('loadTopologies: across files', () => {
  it('a topic declared differently in two files, and a topology name used twice', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
    const other = BASE.replace('partitions: 2', 'partitions: 8');
    fs.writeFileSync(path.join(dir, 'a.yaml'), BASE);
    fs.writeFileSync(path.join(dir, 'b.yaml'), other);
    let error: unknown;
    try {
      loadTopologies(dir, PROCESSORS);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TopologyError);
    const b = path.join(dir, 'b.yaml');
    expect((error as TopologyError).errors).toEqual([
      { file: b, line: 1, column: 7, what: `topology name "test" is also used by ${path.join(dir, 'a.yaml')}` },
      { file: b, ...where(other, 'partitions: «8»'), what: `topic "in": partitions 8 differs from 2 in ${path.join(dir, 'a.yaml')}` },
    ]);
  });

  it('an empty folder or a missing file is a TopologyError too', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
    expect(() => loadTopologies(dir, PROCESSORS)).toThrow(/no \*\.yaml topology files/);
    expect(() => loadTopology(path.join(dir, 'missing.yaml'), PROCESSORS)).toThrow(TopologyError);
  });
});
