/** The virus stage against a real clamd (test-written EICAR signature) and a real SQLite quarantine. */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import MailComposer from 'nodemailer/lib/mail-composer';
import { virusProcessor } from './virus.ts';
import { storedBytes } from './mime/add-headers.ts';
import { parseProcessor } from './parse.ts';
import { RetryableError } from './processor.ts';
import type { ParsedMail } from '../schemas/types.ts';
import { inputRecord, openTestResources, receivedFor, type TestResources } from './test-resources.ts';
import { ClamdScanner } from '../connectors/scan/clamd.ts';
import { SqliteQuarantine } from '../connectors/scan/sqlite-quarantine.ts';
import { DEFAULT_SPAM_POLICY, type ScanResources } from '../connectors/scan/resources.ts';
import { EICAR, EICAR_SIGNATURE, startClamd, type RunningClamd } from '../test/harness/clamd.ts';
import { freePort } from '../test/harness/server.ts';

let res: TestResources;
let clamd: RunningClamd;
let quarantine: SqliteQuarantine;
beforeAll(async () => {
  res = openTestResources();
  clamd = await startClamd();
  quarantine = new SqliteQuarantine({ path: path.join(res.dir, 'quarantine.db') });
});
afterAll(async () => {
  await quarantine?.close();
  await clamd?.stop();
  await res?.close();
});

function scanWith(virus: ClamdScanner | null): ScanResources {
  return { virus, spam: null, quarantine, bayes: null, resolver: null, hostname: 'mx.sluice.test', spamPolicy: DEFAULT_SPAM_POLICY };
}

/** A nodemailer-composed message with one attachment. */
async function composed(attachment: string, subject: string): Promise<Buffer> {
  return new MailComposer({
    from: 'alice@example.org',
    to: 'bob@example.test',
    subject,
    text: 'The file you asked for.',
    attachments: [{ filename: 'tool.com', content: Buffer.from(attachment) }],
  })
    .compile()
    .build();
}

async function parsed(raw: Buffer, ingressId: string): Promise<ParsedMail> {
  const rawBlob = await res.blobs.put(raw);
  const received = receivedFor(rawBlob, raw.length, ingressId);
  const [out] = await parseProcessor.create(parseProcessor.spec.config.parse({}), res).process(inputRecord('mail.received', received.userId, received));
  return out.value as ParsedMail;
}

async function run(mail: ParsedMail, virus: ClamdScanner | null) {
  const stage = virusProcessor.create(virusProcessor.spec.config.parse({}), { ...res, scan: scanWith(virus) });
  return stage.process(inputRecord('mail.checked', mail.received.userId, mail));
}

describe('virus stage', () => {
  it('quarantines a message with the EICAR file attached and passes its clean twin, marked scanned', async () => {
    const scanner = new ClamdScanner({ address: clamd.address });
    const infected = await parsed(await composed(EICAR, 'the tool'), 'ing-eicar');
    expect(await run(infected, scanner)).toEqual([]);
    const entry = await quarantine.get('ing-eicar:bob@example.test');
    expect(entry?.viruses).toEqual([`${EICAR_SIGNATURE}.UNOFFICIAL`]);
    expect(entry?.record.subject).toBe('the tool');
    expect(entry?.releaseTopic).toBe('mail.scanned');

    const clean = await parsed(await composed('a harmless file of the same size, near enough ..........', 'the tool'), 'ing-clean');
    const [out] = await run(clean, scanner);
    const stored = storedBytes(out.value, await res.blobs.get(out.value.received.rawBlob));
    expect(stored.toString('latin1')).toMatch(/^X-Sluice-Virus-Scan: clean \(clamd 127\.0\.0\.1:\d+\)\r\n/);
    expect(out.value.received.size + Buffer.byteLength(out.value.addedHeaders)).toBe(stored.length); // size: the raw message's
    expect(out.value.headers.startsWith('X-Sluice-Virus-Scan: clean')).toBe(true);
    expect(await quarantine.get('ing-clean:bob@example.test')).toBeNull();
  });

  it('replaying an infected record quarantines it once', async () => {
    const scanner = new ClamdScanner({ address: clamd.address });
    const infected = await parsed(await composed(EICAR, 'again'), 'ing-replay');
    await run(infected, scanner);
    await run(infected, scanner);
    expect((await quarantine.list('bob@example.test')).filter((e) => e.messageKey === 'ing-replay:bob@example.test')).toHaveLength(1);
  });

  it('leaves mail a user appended (not from SMTP) byte-exact', async () => {
    const mail = await parsed(await composed(EICAR, 'appended'), 'ing-append');
    const own = { ...mail, received: { ...mail.received, source: 'imap' } };
    expect(await run(own, new ClamdScanner({ address: clamd.address }))).toEqual([{ key: own.received.userId, value: own }]);
  });

  it('marks mail not scanned when no clamd is configured', async () => {
    const mail = await parsed(await composed(EICAR, 'unscanned'), 'ing-none');
    const [out] = await run(mail, null);
    expect(storedBytes(out.value, await res.blobs.get(out.value.received.rawBlob)).toString('latin1')).toMatch(/^X-Sluice-Virus-Scan: not scanned /);
  });

  it('throws RetryableError while clamd is unreachable (nothing goes on unscanned)', async () => {
    const mail = await parsed(await composed('clean', 'down'), 'ing-down');
    await expect(run(mail, new ClamdScanner({ address: `127.0.0.1:${await freePort()}` }))).rejects.toBeInstanceOf(RetryableError);
  });
});
