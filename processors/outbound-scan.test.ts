/** The outbound scan stage against a real clamd (test-written EICAR signature). */
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundScanProcessor } from './outbound-scan.ts';
import { RetryableError } from './processor.ts';
import { inputRecord, openTestResources, type TestResources } from './test-resources.ts';
import { queuedMail } from './outbound/test-outbound.ts';
import { ClamdScanner } from '../connectors/scan/clamd.ts';
import { DEFAULT_SPAM_POLICY, type ScanResources } from '../connectors/scan/resources.ts';
import type { DeliveryResult, MailOutbound, MailReceived } from '../schemas/types.ts';
import { EICAR, startClamd, type RunningClamd } from '../test/harness/clamd.ts';
import { freePort } from '../test/harness/server.ts';
import { startRspamd, type RunningRspamd } from '../test/harness/rspamd.ts';
import { startDns, type RunningDns } from '../test/harness/dns.ts';
import { RspamdScanner } from '../connectors/scan/rspamd.ts';

/** The GTUBE spam test string: rspamd's stock rules say reject. */
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

let res: TestResources;
let clamd: RunningClamd;
let rspamd: RunningRspamd;
let dns: RunningDns;
beforeAll(async () => {
  res = openTestResources();
  dns = await startDns({});
  [clamd, rspamd] = await Promise.all([startClamd(), startRspamd({ dnsServer: dns.address })]);
});
afterAll(async () => {
  await clamd?.stop();
  await rspamd?.stop();
  await dns?.close();
  await res?.close();
});

function scanWith(virus: ClamdScanner | null, spam: RspamdScanner | null = null): ScanResources {
  return { virus, spam, quarantine: null, bayes: null, resolver: null, hostname: 'mx.sluice.test', spamPolicy: DEFAULT_SPAM_POLICY };
}

async function mailWith(attachment: string): Promise<MailOutbound> {
  const raw = await new MailComposer({ from: 'alice@sluice.test', to: 'bob@remote.test, carol@remote.test', subject: 'the file', text: 'Here.', messageId: '<att@client.test>', attachments: [{ filename: 'tool.com', content: Buffer.from(attachment) }] }).compile().build();
  return queuedMail(res.blobs, { domain: 'remote.test', recipients: ['bob@remote.test', 'carol@remote.test'] }, raw.toString('latin1'));
}

async function run(mail: MailOutbound, virus: ClamdScanner | null, spam: RspamdScanner | null = null) {
  const stage = outboundScanProcessor.create(outboundScanProcessor.spec.config.parse({}), { ...res, scan: scanWith(virus, spam) });
  return stage.process(inputRecord('mail.outbound.prepared', mail.domain, mail));
}

describe('outbound scan stage', () => {
  it('an infected message is not passed on; the sender gets a failure DSN (5.7.1) and each recipient is recorded blocked', async () => {
    const outs = await run(await mailWith(EICAR), new ClamdScanner({ address: clamd.address }));
    expect(outs.filter((o) => o.topic === undefined || o.topic === 'mail.outbound.scanned')).toEqual([]);
    const results = outs.filter((o) => o.topic === 'mail.outbound.results').map((o) => o.value as DeliveryResult);
    expect(results.map((r) => [r.recipient, r.status, r.code])).toEqual([['bob@remote.test', 'blocked', 554], ['carol@remote.test', 'blocked', 554]]);
    const [dsn] = outs.filter((o) => o.topic === 'mail.received').map((o) => o.value as MailReceived);
    expect(dsn).toMatchObject({ userId: 'alice@sluice.test', mailbox: 'INBOX', source: 'dsn', mailFrom: '' });
    const text = (await res.blobs.get(dsn.rawBlob)).toString();
    expect(text).toContain('Final-Recipient: rfc822; carol@remote.test\r\nAction: failed\r\nStatus: 5.7.1\r\n');
    expect(text).toMatch(/Diagnostic-Code: x-sluice; 5\.7\.1 not sent: it contains a virus: Sluice-Test\.EICAR/);
    expect(text).toContain('Message-ID: <att@client.test>');
    expect(text).not.toContain('EICAR-STANDARD'); // headers only
  });

  it('a clean message goes on, marked clean by clamd', async () => {
    const mail = await mailWith('a harmless file');
    const [out] = await run(mail, new ClamdScanner({ address: clamd.address }));
    expect(out).toEqual({ key: 'remote.test', value: { ...mail, scanned: expect.stringMatching(/^clean \(clamd 127\.0\.0\.1:\d+\)$/) } });
  });

  it('without clamd the message goes on marked "not scanned" (never silently)', async () => {
    const mail = await mailWith(EICAR);
    const [out] = await run(mail, null);
    expect((out.value as MailOutbound).scanned).toBe('not scanned (no virus scanner configured: scan.clamd)');
  });

  it('rspamd\'s reject (GTUBE) blocks the message with a DSN; an ordinary message goes out', async () => {
    const spam = new RspamdScanner({ url: rspamd.url });
    const gtube = await queuedMail(res.blobs, { domain: 'remote.test', recipients: ['bob@remote.test'] }, `From: <alice@sluice.test>\r\nTo: <bob@remote.test>\r\nSubject: offer\r\nMessage-ID: <gtube@client.test>\r\n\r\n${GTUBE}\r\n`);
    const outs = await run(gtube, new ClamdScanner({ address: clamd.address }), spam);
    expect(outs.map((o) => o.topic)).toEqual(['mail.received', 'mail.outbound.results']);
    expect((await res.blobs.get((outs[0].value as MailReceived).rawBlob)).toString()).toMatch(/5\.7\.1 not sent: it was judged spam \(score \d+/);
    const [ok] = await run(await mailWith('a harmless file'), new ClamdScanner({ address: clamd.address }), spam);
    expect((ok.value as MailOutbound).scanned).toMatch(/^clean \(clamd .*\); spam (no action|add header|greylist) score=/);
  }, 60_000);

  it('clamd unreachable: RetryableError, nothing goes out unscanned', async () => {
    await expect(run(await mailWith('x'), new ClamdScanner({ address: `127.0.0.1:${await freePort()}` }))).rejects.toBeInstanceOf(RetryableError);
  });
});
