/**
 * mailparser vs postal-mime on the same corpus (the issue: "measure both on the same corpus and
 * keep the faster one that is correct"). Run: node bin/run-ts.js bench/parse-compare.ts
 * [--count 300] [--mix 5k:80,50k:18,500k:2] [--rounds 5] [--generator PATH]
 *
 * The corpus: messages from gen_messages.py (realistic MX mail) plus the hand-made hard cases
 * of processors/mime/hard-cases.ts. Prints ms/message and MB/s per parser, then every
 * disagreement on the fields the parse stage uses.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { simpleParser } from 'mailparser';
import type { AddressObject } from 'mailparser';
import PostalMime from 'postal-mime';
import type { Address as PostalAddress } from 'postal-mime';
import { convert } from 'html-to-text';
import { hardCases } from '../processors/mime/hard-cases.ts';
import { cutOut, rangesToSplit } from '../processors/split-attachments.ts';

interface Fields {
  subject: string;
  from: string[];
  to: string[];
  cc: string[];
  date: number | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  text: string;
  attachments: string[];
}

interface Message {
  name: string;
  raw: Buffer;
}

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '300' },
    mix: { type: 'string', default: '5k:80,50k:18,500k:2' },
    rounds: { type: 'string', default: '5' },
    generator: { type: 'string', default: '/work/shared/bench/gen_messages.py' },
  },
});

function buildCorpus(): Message[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-parse-bench-'));
  execFileSync('python3', [args.generator, '--count', args.count, '--size', args.mix, '--out', dir, '--seed', '1'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const generated = fs
    .readdirSync(dir)
    .sort()
    .map((name) => ({ name, raw: fs.readFileSync(path.join(dir, name)) }));
  fs.rmSync(dir, { recursive: true, force: true });
  return [...generated, ...hardCases()];
}

const ids = (value: string | string[] | undefined): string[] =>
  (Array.isArray(value) ? value.join(' ') : (value ?? '')).match(/<[^<>\s]+>/g) ?? [];
const normText = (s: string | undefined): string => (s ?? '').replace(/\s+/g, ' ').trim();
const dateMs = (d: Date | string | undefined): number | null => {
  if (d === undefined) return null;
  const ms = typeof d === 'string' ? Date.parse(d) : d.getTime();
  return Number.isNaN(ms) ? null : ms;
};

function mailparserAddresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const out: string[] = [];
  for (const obj of Array.isArray(value) ? value : value ? [value] : []) {
    for (const a of obj.value) {
      for (const m of a.group ?? [a]) out.push(`${m.name} <${m.address ?? ''}>`);
    }
  }
  return out;
}

function postalAddresses(value: PostalAddress | PostalAddress[] | undefined): string[] {
  const out: string[] = [];
  for (const a of Array.isArray(value) ? value : value ? [value] : []) {
    for (const m of a.group ?? [a]) out.push(`${m.name} <${m.address ?? ''}>`);
  }
  return out;
}

async function withMailparser(raw: Buffer): Promise<Fields> {
  const m = await simpleParser(raw, { skipTextToHtml: true, skipImageLinks: true, keepCidLinks: true });
  return {
    subject: m.subject ?? '',
    from: mailparserAddresses(m.from),
    to: mailparserAddresses(m.to),
    cc: mailparserAddresses(m.cc),
    date: dateMs(m.date),
    messageId: ids(m.messageId)[0] ?? null,
    inReplyTo: ids(m.inReplyTo)[0] ?? null,
    references: ids(m.references),
    text: normText(m.text),
    attachments: m.attachments.map((a) => `${a.filename ?? '-'}:${a.size}`),
  };
}

async function withPostalMime(raw: Buffer): Promise<Fields> {
  const m = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer' });
  const text = m.text ?? (m.html ? convert(m.html, { wordwrap: false }) : '');
  return {
    subject: m.subject ?? '',
    from: postalAddresses(m.from),
    to: postalAddresses(m.to),
    cc: postalAddresses(m.cc),
    date: dateMs(m.date),
    messageId: ids(m.messageId)[0] ?? null,
    inReplyTo: ids(m.inReplyTo)[0] ?? null,
    references: ids(m.references),
    text: normText(text),
    attachments: m.attachments.map((a) => {
      const c = a.content;
      const size = typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength;
      return `${a.filename ?? '-'}:${size}`;
    }),
  };
}

type Parser = (raw: Buffer) => Promise<Fields>;

async function time(parse: Parser, corpus: Message[], rounds: number): Promise<number> {
  for (const m of corpus) await parse(m.raw); // warm-up round
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const m of corpus) await parse(m.raw);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

async function main(): Promise<void> {
  const corpus = buildCorpus();
  const rounds = Number(args.rounds);
  const bytes = corpus.reduce((n, m) => n + m.raw.length, 0);
  console.log(`corpus: ${corpus.length} messages, ${(bytes / 1e6).toFixed(2)} MB; ${rounds} timed rounds after 1 warm-up`);

  const parsers: [string, Parser][] = [
    ['mailparser', withMailparser],
    ['postal-mime', withPostalMime],
  ];
  // Alternate the order over two passes so neither parser always runs on a colder heap.
  const totals = new Map<string, number>();
  for (const pass of [parsers, [...parsers].reverse()]) {
    for (const [name, parse] of pass) totals.set(name, (totals.get(name) ?? 0) + (await time(parse, corpus, rounds)));
  }
  console.log('\n| parser | ms/message | MB/s |\n|---|---:|---:|');
  for (const [name] of parsers) {
    const ms = totals.get(name)!;
    const n = corpus.length * rounds * 2;
    console.log(`| ${name} | ${(ms / n).toFixed(3)} | ${((bytes * rounds * 2) / 1e6 / (ms / 1000)).toFixed(1)} |`);
  }

  let disagreements = 0;
  console.log('\ndisagreements (mailparser vs postal-mime):');
  for (const m of corpus) {
    const [a, b] = await Promise.all([withMailparser(m.raw), withPostalMime(m.raw)]);
    for (const key of Object.keys(a) as (keyof Fields)[]) {
      if (JSON.stringify(a[key]) === JSON.stringify(b[key])) continue;
      disagreements++;
      console.log(`  ${m.name} ${key}:\n    mailparser:  ${show(a[key])}\n    postal-mime: ${show(b[key])}`);
    }
  }
  console.log(disagreements === 0 ? '  none' : `  ${disagreements} field(s) differ`);
  checkSplit(corpus);
}

/** The split-attachments invariant on the same corpus: skeleton + cut parts = the raw bytes. */
function checkSplit(corpus: Message[]): void {
  for (const threshold of [0, 128 * 1024]) {
    let cuts = 0;
    const wrong: string[] = [];
    for (const m of corpus) {
      const ranges = rangesToSplit(m.raw, threshold);
      const { skeleton, offsets } = cutOut(m.raw, ranges);
      const pieces: Buffer[] = [];
      let at = 0;
      ranges.forEach((r, i) => {
        pieces.push(skeleton.subarray(at, offsets[i]), m.raw.subarray(r.start, r.end));
        at = offsets[i];
      });
      pieces.push(skeleton.subarray(at));
      if (!Buffer.concat(pieces).equals(m.raw)) wrong.push(m.name);
      cuts += ranges.length;
    }
    console.log(`\nsplit at ${threshold} bytes: ${cuts} part(s) cut, ${wrong.length === 0 ? 'every message reassembles exactly' : `NOT reassembled: ${wrong.join(' ')}`}`);
  }
}

await main();
