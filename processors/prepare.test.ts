/** The prepare stage: missing fields added, a DKIM signature that mailauth verifies through a loopback DNS server. */
import { Resolver } from 'node:dns/promises';
import { dkimVerify } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareProcessor } from './prepare.ts';
import { inputRecord, openTestResources, type TestResources } from './test-resources.ts';
import { queuedMail, testOutbound, testPolicy } from './outbound/test-outbound.ts';
import { dkimRecordName, dkimRecordText } from '../connectors/dkim/keys.ts';
import type { OutboundResources } from '../connectors/outbound.ts';
import type { MailOutbound } from '../schemas/types.ts';
import { readOutgoing } from './outbound/outgoing-bytes.ts';
import { startDns, type DnsZone, type RunningDns } from '../test/harness/dns.ts';

let res: TestResources;
let dns: RunningDns;
let outbound: OutboundResources;
const zone: Record<string, DnsZone[string]> = {};

beforeAll(async () => {
  res = openTestResources();
  dns = await startDns(zone);
  outbound = testOutbound(res.dir, dns.address, testPolicy());
});
afterAll(async () => {
  await dns.close();
  await res.close();
});

async function prepare(mail: MailOutbound): Promise<{ out: MailOutbound; raw: string }> {
  const stage = prepareProcessor.create(prepareProcessor.spec.config.parse({}), { ...res, outbound });
  const [result] = await stage.process(inputRecord('mail.outbound', mail.domain, mail));
  const out = result.value;
  return { out, raw: (await readOutgoing(res.blobs, out)).toString('latin1') };
}

async function verify(raw: string) {
  const resolver = new Resolver();
  resolver.setServers([dns.address]);
  return dkimVerify(Buffer.from(raw, 'latin1'), { resolver: (name: string, type: string) => resolver.resolve(name, type) as Promise<string[][]> });
}

describe('prepare stage', () => {
  it('adds Message-ID, Date and MIME-Version where missing, and signs with a key it makes the first time (rsa-sha256, relaxed/relaxed)', async () => {
    expect(await outbound.dkim.get('sluice.test')).toBeNull();
    const bare = 'From: <alice@sluice.test>\r\nTo: <bob@remote.test>\r\nSubject: bare\r\n\r\nHello.\r\n';
    const { out, raw } = await prepare(await queuedMail(res.blobs, { domain: 'remote.test', recipients: ['bob@remote.test'], ingressId: 'ing-9' }, bare));
    const key = (await outbound.dkim.get('sluice.test'))!;
    zone[dkimRecordName(key)] = { TXT: [dkimRecordText(key)] };
    expect(raw).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=sluice\.test;/);
    expect(raw).toContain('\r\nMessage-ID: <ing-9@mx.sluice.test>\r\n');
    expect(raw).toContain('\r\nDate: Mon, 06 Jan 2025 10:00:00 +0000\r\n'); // the submission time
    expect(raw).toContain('\r\nMIME-Version: 1.0\r\n\r\nHello.\r\n');
    expect(out.size).toBe(Buffer.byteLength(raw, 'latin1'));
    const verified = await verify(raw);
    expect(verified.results.map((r) => [r.signingDomain, r.selector, r.status.result])).toEqual([['sluice.test', 'sluice', 'pass']]);
    // A changed body no longer verifies: the signature covers it.
    expect((await verify(raw.replace('Hello.', 'Hullo.'))).results[0].status.result).not.toBe('pass'); // mailauth: neutral, body hash did not verify
  });

  it('keeps fields the message has, and the same key for the next message', async () => {
    const before = (await outbound.dkim.get('sluice.test'))!;
    const full = 'From: <alice@sluice.test>\r\nTo: <bob@remote.test>\r\nDate: Tue, 1 Jul 2025 09:00:00 +0200\r\nMessage-ID: <own@client.test>\r\nMIME-Version: 1.0\r\nSubject: full\r\n\r\nHi.\r\n';
    const queued = await queuedMail(res.blobs, { domain: 'remote.test', recipients: ['bob@remote.test'] }, full);
    const { out, raw } = await prepare(queued);
    expect(raw.slice(raw.indexOf('From: '))).toBe(full);
    // Nothing was missing: the signature travels on the record, the blob is the submitted one.
    expect(out.rawBlob).toBe(queued.rawBlob);
    expect(out.addedHeaders).toMatch(/^DKIM-Signature: [^]*\r\n$/);
    expect(raw).toBe(out.addedHeaders + full);
    expect(out.size).toBe(Buffer.byteLength(raw, 'latin1'));
    expect((await outbound.dkim.get('sluice.test'))!.privateKeyPem).toBe(before.privateKeyPem);
    expect((await verify(raw)).results[0].status.result).toBe('pass');
  });
});
