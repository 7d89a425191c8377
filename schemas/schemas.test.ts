/**
 * The Avro schemas: each file loads; along every edge of every topology the producer's schema
 * can be read with the consumer's (Avro schema resolution); and `types.ts` has the same fields
 * as the `.avsc` files.
 */
import { beforeAll, describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { parse as parseYaml } from 'yaml';
import { SCHEMA_ORDER, canRead, loadSchemas, schemaType } from './registry.ts';
import type {
  AddressRecord,
  DeadLetter,
  MailOutbound,
  DeliveryResult,
  QueueControl,
  MailReceived,
  MailboxCommand,
  MailboxEvent,
  ParsedMail,
} from './types.ts';
import type { ProcessorSpec } from '../processors/processor.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const topologyDir = path.join(here, '..', 'topology');

describe('schema files', () => {
  it('every .avsc file is in SCHEMA_ORDER and loads as a named record', () => {
    const files = fs.readdirSync(here).filter((f) => f.endsWith('.avsc')).map((f) => f.slice(0, -'.avsc'.length));
    expect([...files].sort()).toEqual([...SCHEMA_ORDER].sort());
    const types = loadSchemas();
    for (const name of files) {
      const type = types.get(name);
      expect(type, name).toBeDefined();
      expect(type?.typeName).toBe('record');
      expect(type?.name).toBe(`sluice.${name}`);
    }
  });
});

interface Edge {
  readonly topology: string;
  readonly topic: string;
  readonly producer: string;
  readonly writer: string;
  readonly consumer: string;
  readonly reader: string;
}

/**
 * Every producer → topic → consumer edge of a topology file, read straight from the YAML (not
 * through the loader). A producer is a stage's processor (its output schema) or, for a
 * `source: external` topic, the outside writing the topic's own schema; dead-letter topics
 * carry DeadLetter.
 */
function edgesOf(file: string, processors: ReadonlyMap<string, { spec: ProcessorSpec<unknown> }>): Edge[] {
  interface RawStage { name: string; processor: string; from: string; to?: string | string[]; deadLetter?: string }
  interface RawTopic { schema: string; source?: string }
  const doc = parseYaml(fs.readFileSync(file, 'utf8')) as { topics: Record<string, RawTopic>; stages: RawStage[] };
  const spec = (processor: string) => {
    const def = processors.get(processor);
    if (!def) throw new Error(`${file}: no processor ${processor} in processors/index.ts`);
    return def.spec;
  };
  const producers: { topic: string; producer: string; writer: string }[] = [];
  for (const [topic, decl] of Object.entries(doc.topics)) {
    if (decl.source === 'external') producers.push({ topic, producer: 'outside', writer: decl.schema });
  }
  for (const stage of doc.stages) {
    const { output, extraOutputs = [] } = spec(stage.processor);
    const to = stage.to === undefined ? [] : typeof stage.to === 'string' ? [stage.to] : stage.to;
    to.forEach((topic, j) => {
      // Outputs after the first may carry one of the processor's extra schemas.
      const schema = doc.topics[topic]?.schema;
      producers.push({ topic, producer: stage.name, writer: j > 0 && extraOutputs.includes(schema) ? schema : (output ?? '(none)') });
    });
    if (stage.deadLetter) producers.push({ topic: stage.deadLetter, producer: `${stage.name} (dead letter)`, writer: 'DeadLetter' });
  }
  const edges: Edge[] = [];
  for (const stage of doc.stages) {
    for (const p of producers.filter((x) => x.topic === stage.from)) {
      edges.push({ topology: path.basename(file), topic: p.topic, producer: p.producer, writer: p.writer, consumer: stage.name, reader: spec(stage.processor).input });
    }
  }
  return edges;
}

const topologyFiles = fs.readdirSync(topologyDir).filter((f) => f.endsWith('.yaml')).sort();

describe('producer and consumer schemas agree along every topology edge', () => {
  // Imported here so that a processor still being written cannot stop the other schema tests.
  let processors: ReadonlyMap<string, { spec: ProcessorSpec<unknown> }>;
  beforeAll(async () => {
    processors = (await import('../processors/index.ts')).PROCESSORS;
  });

  it('finds the topology files', () => {
    expect(topologyFiles).toContain('inbound.yaml');
  });

  for (const name of topologyFiles) {
    it(`${name}: each consumer can read what each producer writes`, () => {
      const edges = edgesOf(path.join(topologyDir, name), processors);
      // A topology with stages has edges.
      const stages = (parseYaml(fs.readFileSync(path.join(topologyDir, name), 'utf8')) as { stages: unknown[] }).stages;
      if (stages.length > 0) expect(edges.length).toBeGreaterThan(0);
      const failures = edges.flatMap((e) => {
        const r = canRead(schemaType(e.reader), schemaType(e.writer));
        return r.ok ? [] : [`${e.producer} (${e.writer}) → ${e.topic} → ${e.consumer} (${e.reader}): ${r.why}`];
      });
      expect(failures).toEqual([]);
    });
  }

  it('inbound.yaml has the edges of the receiving flow', () => {
    const edges = edgesOf(path.join(topologyDir, 'inbound.yaml'), processors).map((e) => `${e.producer} → ${e.topic} → ${e.consumer}`);
    expect(edges).toEqual(expect.arrayContaining([
      'outside → mail.received → parse',
      'parse → mail.parsed → spam',
      'spam → mail.checked → virus',
      'virus → mail.scanned → split-attachments',
      'split-attachments → mailbox.commands → store',
      'store → mailbox.events → index',
      'store → mailbox.events → push',
    ]));
  });

  it('outbound.yaml has the edges of the sending flow, the retry loops included', () => {
    const edges = edgesOf(path.join(topologyDir, 'outbound.yaml'), processors).map((e) => `${e.producer} (${e.writer}) → ${e.topic} → ${e.consumer}`);
    expect(edges).toEqual(expect.arrayContaining([
      'outside (MailOutbound) → mail.outbound → prepare',
      'prepare (MailOutbound) → mail.outbound.prepared → scan',
      'scan (MailOutbound) → mail.outbound.scanned → deliver',
      'deliver (MailOutbound) → mail.outbound.retry.1 → retry-1',
      'deliver (MailOutbound) → mail.outbound.retry.5 → retry-5',
      'retry-1 (MailOutbound) → mail.outbound.scanned → deliver',
      'retry-5 (MailOutbound) → mail.outbound.scanned → deliver',
    ]));
  });
});

describe('the compatibility check can fail', () => {
  const base = JSON.parse(fs.readFileSync(path.join(here, 'MailReceived.avsc'), 'utf8')) as { fields: unknown[] };
  const withField = (field: object) => avro.Type.forSchema({ ...base, fields: [...base.fields, field] } as avro.Schema);

  it('a reader with a new field without a default cannot read the old writer', () => {
    const r = canRead(withField({ name: 'tenant', type: 'string' }), schemaType('MailReceived'));
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.why).toContain('tenant');
  });

  it('the same new field with a default can read the old writer', () => {
    expect(canRead(withField({ name: 'tenant', type: 'string', default: '' }), schemaType('MailReceived'))).toEqual({ ok: true });
  });

  it('a MailOutbound queued before addedHeaders existed reads with none (its blob is the whole message)', () => {
    const current = JSON.parse(fs.readFileSync(path.join(here, 'MailOutbound.avsc'), 'utf8')) as { fields: { name: string }[] };
    const old = avro.Type.forSchema({ ...current, fields: current.fields.filter((f) => f.name !== 'addedHeaders') } as avro.Schema);
    const { addedHeaders: _, ...before } = outbound;
    const read = schemaType('MailOutbound').createResolver(old);
    expect((schemaType('MailOutbound').fromBuffer(old.toBuffer(before), read) as MailOutbound).addedHeaders).toBe('');
  });

  it('a record of another name cannot be read', () => {
    expect(canRead(schemaType('ParsedMail'), schemaType('MailReceived')).ok).toBe(false);
    expect(canRead(schemaType('MailboxEvent'), schemaType('MailboxCommand')).ok).toBe(false);
  });
});

// Samples of each TypeScript type: the compiler checks them against types.ts (no missing or
// extra fields in an object literal), the test below against the .avsc files.
const address: AddressRecord = { name: 'Alice', address: 'alice@example.test' };
const received: MailReceived = {
  ingressId: 'i-1', userId: 'u-1', recipient: 'alice@example.test', mailFrom: 'bob@example.test', source: 'smtp',
  remoteAddress: '127.0.0.1', helo: 'client.example.test', receivedAt: 1_700_000_000_000, rawBlob: 'a'.repeat(64),
  size: 1234, mailbox: 'INBOX', flags: ['\\Seen'],
};
const parsed: ParsedMail = {
  received, messageId: '<m1@example.test>', inReplyTo: null, references: ['<m0@example.test>'], subject: 'Hi',
  from: [address], to: [address], cc: [], date: 1_700_000_000_000, addedHeaders: 'X-Sluice-Virus-Scan: clean\r\n', headers: 'Subject: Hi\nFrom: Alice <alice@example.test>', text: 'Hello',
  attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', size: 10 }],
};
const command: MailboxCommand = {
  commandId: 'c-1', userId: 'u-1', issuedAt: 1_700_000_000_001,
  deliver: {
    messageKey: 'k-1', mailbox: 'INBOX', flags: [], receivedAt: 1_700_000_000_000, size: 1234, rawBlob: 'a'.repeat(64),
    skeletonBlob: 'b'.repeat(64), parts: [{ offset: 100, length: 200, blob: 'c'.repeat(64) }], messageId: null,
    inReplyTo: '<m0@example.test>', references: [], subject: 'Hi', from: [address], to: [], cc: [address], date: null,
    headers: 'Subject: Hi', text: 'Hello', attachmentNames: ['a.pdf'],
  },
  // A real command sets one of these; the sample sets every one so the field check reaches each record.
  setFlags: { mailboxId: 1, uids: [1, 2], mode: 'add', flags: ['\\Seen'], unchangedSince: 5 },
  copy: { fromMailboxId: 1, uids: [3], toMailbox: 'Archive', move: true },
  expunge: { mailboxId: 1, uids: [4], onlyDeleted: true },
  createMailbox: { name: 'Projects/2026', specialUse: '\\Archive' },
  renameMailbox: { from: 'Old', to: 'New' },
  deleteMailbox: { name: 'Gone' },
  subscribe: { name: 'News', subscribed: false },
};
const event: MailboxEvent = {
  eventId: 'e-1', userId: 'u-1', at: 1_700_000_000_002,
  delivered: {
    messageKey: 'k-1', mailboxId: 1, mailbox: 'INBOX', uid: 1, modseq: 2, threadId: 't-1', receivedAt: 1_700_000_000_000,
    size: 1234, subject: 'Hi', from: [address], to: [address], cc: [], headers: 'Subject: Hi', text: 'Hello', attachmentNames: [],
  },
  commandId: 'c-1',
  // A real event sets one of these; the sample sets every one so the field check reaches each record.
  flagsChanged: {
    mailboxId: 1, mailbox: 'INBOX', modseq: 7, changed: [{ messageKey: 'k-1', uid: 1, modseq: 7, flags: ['\\Seen'] }], conflicts: [2],
  },
  copied: {
    fromMailboxId: 1, toMailboxId: 2, toMailbox: 'Archive', uidValidity: 1_700_000_000, moved: false, sourceUids: [1],
    targetUids: [10], copies: [{ fromKey: 'k-1', toKey: 'copy:c-1:k-1' }], modseq: 8,
  },
  expunged: { mailboxId: 1, mailbox: 'INBOX', uids: [3], messageKeys: ['k-3'], modseq: 9 },
  mailboxChanged: { change: 'renamed', mailboxId: 3, name: 'New', oldName: 'Old', removedKeys: ['k-4'] },
  failed: { code: 'NONEXISTENT', message: 'no mailbox named Gone' },
};
const deadLetter: DeadLetter = {
  stage: 'parse', topic: 'mail.received', partition: 0, offset: 42, key: 'u-1', value: Buffer.from([1, 2, 3]),
  headers: { 'x-attempt': '1' }, error: 'boom', failedAt: 1_700_000_000_003,
};
const outbound: MailOutbound = {
  outboundId: 'i-1:remote.example', ingressId: 'i-1', userId: 'u-1', mailFrom: 'alice@example.test', domain: 'remote.example',
  recipients: ['bob@remote.example'], submittedAt: 1_700_000_000_000, rawBlob: 'a'.repeat(64), size: 1234, attempt: 0, notBefore: 0,
  delayNotified: false, lastResponses: { 'bob@remote.example': '451 4.3.0 try later' }, scanned: 'clean (clamd 127.0.0.1:3310)',
  addedHeaders: 'DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=sluice; b=AAAA\r\n',
};
const deliveryResult: DeliveryResult = {
  outboundId: 'i-1:remote.example', ingressId: 'i-1', userId: 'u-1', domain: 'remote.example', recipient: 'bob@remote.example', attempt: 1,
  status: 'deferred', code: 451, response: '451 4.3.0 try later', host: 'mx.remote.example', at: 1_700_000_000_100, nextAttemptAt: 1_700_000_060_100,
};
const queueControl: QueueControl = {
  action: 'drop', outboundId: 'i-1:remote.example', topic: 'mail.outbound.retry.2', partition: 1, offset: 7, bounce: false, by: 'root', at: 1_700_000_000_200,
};
const SAMPLES: Record<string, unknown> = {
  Address: address, MailReceived: received, ParsedMail: parsed, MailboxCommand: command, MailboxEvent: event, DeadLetter: deadLetter,
  MailOutbound: outbound, DeliveryResult: deliveryResult, QueueControl: queueControl,
};

/** Where the field names of `value` differ from those of the Avro `type`, at any depth. */
function fieldMismatches(type: avro.Type, value: unknown, at: string): string[] {
  if (type instanceof avro.types.RecordType) {
    const record = value as Record<string, unknown>;
    const fields = type.fields.map((f) => f.name).sort();
    const keys = Object.keys(record).sort();
    const out: string[] = [];
    if (JSON.stringify(fields) !== JSON.stringify(keys)) out.push(`${at}: avsc has [${fields.join(', ')}], types.ts sample has [${keys.join(', ')}]`);
    for (const f of type.fields) if (f.name in record) out.push(...fieldMismatches(f.type, record[f.name], `${at}.${f.name}`));
    return out;
  }
  if (type instanceof avro.types.ArrayType) return (value as unknown[]).flatMap((v, i) => fieldMismatches(type.itemsType, v, `${at}[${i}]`));
  if (type instanceof avro.types.UnwrappedUnionType) {
    if (value === null) return [];
    const branch = type.types.find((t) => t.typeName !== 'null' && t.isValid(value));
    return branch ? fieldMismatches(branch, value, at) : [`${at}: no branch of the union holds the value`];
  }
  return [];
}

describe('types.ts matches the .avsc files', () => {
  it('has a sample for every schema', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...SCHEMA_ORDER].sort());
  });

  for (const name of SCHEMA_ORDER) {
    it(`${name}: the sample is valid, round-trips, and has exactly the schema's fields`, () => {
      const type = schemaType(name);
      const sample = SAMPLES[name];
      const invalid: string[] = [];
      expect(type.isValid(sample, { errorHook: (p) => invalid.push(p.join('.')) }), `invalid at ${invalid.join(', ')}`).toBe(true);
      expect(type.fromBuffer(type.toBuffer(sample))).toEqual(sample);
      expect(fieldMismatches(type, sample, name)).toEqual([]);
    });
  }

  it('the field check notices a missing and an extra field', () => {
    const { subject: _subject, ...withoutSubject } = parsed;
    expect(fieldMismatches(schemaType('ParsedMail'), { ...withoutSubject, subjekt: 'x' }, 'ParsedMail')).toEqual([
      expect.stringMatching(/^ParsedMail: avsc has \[.*subject.*\], types\.ts sample has \[.*subjekt.*\]$/),
    ]);
    expect(fieldMismatches(schemaType('MailboxCommand'), { ...command, deliver: { ...command.deliver, extra: 1 } }, 'MailboxCommand')).toHaveLength(1);
  });
});
