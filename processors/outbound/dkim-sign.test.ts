/** DKIM signatures made with a KeyObject, each checked by mailauth's verifier (RFC 6376). */
import { generateKeyPairSync } from 'node:crypto';
import { dkimVerify } from 'mailauth';
import { describe, expect, it } from 'vitest';
import { canonicalBody, dkimSignature, type Canonicalization } from './dkim-sign.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const txt = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
const resolver = async (name: string, type: string): Promise<string[][]> => {
  if (name === 'sel._domainkey.sluice.test' && type === 'TXT') return [[txt]];
  throw Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' });
};

async function verify(message: string): Promise<string[]> {
  const r = await dkimVerify(Buffer.from(message, 'latin1'), { resolver: resolver as never });
  return r.results.map((x) => `${x.signingDomain} ${x.status.result}`);
}

async function signed(message: string, canonicalization: Canonicalization): Promise<string> {
  const field = await dkimSignature(Buffer.from(message, 'latin1'), { domain: 'sluice.test', selector: 'sel', key: privateKey, canonicalization, time: Date.UTC(2026, 11, 7) });
  return field + message;
}

const MESSAGES: Record<string, string> = {
  plain: 'From: Alice <alice@sluice.test>\r\nTo: bob@remote.test\r\nSubject: Hi\r\nDate: Mon, 07 Dec 2026 08:00:00 +0000\r\nMessage-ID: <1@sluice.test>\r\n\r\nHello.\r\n',
  'folded fields, spaces, two Cc, trailing blank lines': 'Received: from x by y; Mon, 07 Dec 2026 08:00:00 +0000\r\nFrom:   Alice  <alice@sluice.test>  \r\nTo: bob@remote.test,\r\n\tcarol@remote.test\r\nCc: dave@remote.test\r\nCc: erin@remote.test\r\nSubject:  a  \t folded\r\n  subject \r\nX-Not-Signed: yes\r\n\r\nline  with   spaces \t \r\n\r\n  indented\tline\r\n\r\n\r\n\r\n',
  'empty body': 'From: alice@sluice.test\r\nSubject: nothing\r\n\r\n',
  'no final CRLF, 8-bit bytes': 'From: alice@sluice.test\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncaf\xc3\xa9 \xe2\x82\xac\r\nlast line',
};

describe('dkimSignature', () => {
  for (const c of ['relaxed/relaxed', 'relaxed/simple', 'simple/simple', 'simple/relaxed'] as const) {
    for (const [what, message] of Object.entries(MESSAGES)) {
      it(`${c}, ${what}: mailauth verifies it`, async () => {
        const out = await signed(message, c);
        expect(out).toMatch(new RegExp(`^DKIM-Signature: v=1; a=rsa-sha256; c=${c}; d=sluice\\.test; s=sel;\\r\\n\\tt=1796601600; h=`));
        expect(await verify(out)).toEqual(['sluice.test pass']);
      });
    }
  }

  it('a changed body or a changed signed field no longer verifies; an unsigned field may change', async () => {
    const out = await signed(MESSAGES['folded fields, spaces, two Cc, trailing blank lines'], 'relaxed/relaxed');
    expect(out).toMatch(/h=Subject:Cc:Cc:To:From;/); // bottom up (RFC 6376 §5.4.2); Received and X-Not-Signed left out
    expect(await verify(out.replace('indented', 'Indented'))).not.toEqual(['sluice.test pass']);
    expect(await verify(out.replace('erin@', 'eve@'))).not.toEqual(['sluice.test pass']);
    expect(await verify(out.replace('X-Not-Signed: yes', 'X-Not-Signed: no'))).toEqual(['sluice.test pass']);
    // relaxed: whitespace changes inside lines do not matter (RFC 6376 §3.4.4).
    expect(await verify(out.replace('line  with   spaces', 'line with spaces'))).toEqual(['sluice.test pass']);
  });

  it('canonicalizes bodies as RFC 6376 §3.4.3-3.4.4 say', () => {
    expect(canonicalBody('', false)).toBe('\r\n');
    expect(canonicalBody('', true)).toBe('');
    expect(canonicalBody('a \t b \r\n\r\n\r\n', true)).toBe('a b\r\n');
    expect(canonicalBody('a \t b \r\n\r\n\r\n', false)).toBe('a \t b \r\n');
    expect(canonicalBody('x', false)).toBe('x\r\n');
  });
});
