import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import PostalMime from 'postal-mime';
import MailComposer from 'nodemailer/lib/mail-composer';
import type Mail from 'nodemailer/lib/mailer';
import { decodedSize, elideAttachmentBodies, sizesOfElided } from './elide-bodies.ts';
import { hardCases, messageWithAttachment, pseudoRandomBytes } from './hard-cases.ts';
import type { HardCase } from './hard-cases.ts';
import { readMessage } from './read-message.ts';
import { leafParts, scanParts } from './part-ranges.ts';

const OPTIONS = { maxTextBytes: 1024 * 1024 };

const compose = (mail: Mail.Options): Promise<Buffer> => new MailComposer(mail).compile().build();

/** nodemailer messages with several attachments: base64, quoted-printable, 7bit, inline, message/rfc822. */
async function composedCorpus(): Promise<HardCase[]> {
  const forwarded = await compose({
    from: 'carol@example.net',
    to: 'alice@example.org',
    subject: 'Original with its own attachment',
    text: `The original.\n${'quoted text line\n'.repeat(100)}`,
    attachments: [{ filename: 'inner.bin', content: pseudoRandomBytes(5000, 3) }],
  });
  const csv = Array.from({ length: 200 }, (_, i) => `${i},café crème = ${i * 3},"a\tb"`).join('\r\n');
  const out: HardCase[] = [];
  for (let i = 0; i < 4; i++) {
    const attachments: Mail.Attachment[] = [
      { filename: `report-${i}.pdf`, content: pseudoRandomBytes(40 * 1024 + i * 333, i + 1), contentType: 'application/pdf' },
      { filename: 'tiny.png', content: pseudoRandomBytes(100 + i, i + 2), contentType: 'image/png' },
      { filename: 'data.csv', content: csv, contentType: 'text/csv; charset=utf-8', contentTransferEncoding: 'quoted-printable' },
      { filename: 'notes.txt', content: `${'plain attached text\r\n'.repeat(300)}end`, contentType: 'text/plain', contentTransferEncoding: '7bit' },
      { filename: 'logo.gif', content: pseudoRandomBytes(9000, i + 5), contentType: 'image/gif', cid: `logo-${i}@example.org` },
      // nodemailer marks a message/rfc822 part inline: postal-mime reads it in place.
      { filename: 'fwd.eml', content: forwarded, contentType: 'message/rfc822' },
      { filename: 'attached.eml', content: forwarded, contentType: 'message/rfc822', contentDisposition: 'attachment' },
    ];
    out.push({
      name: `composed-${i}`,
      raw: await compose({
        from: 'Alice <alice@example.org>',
        to: 'bob@example.test',
        subject: `Composed ${i} — ünïcödé`,
        text: `Message ${i}\n${'line of text '.repeat(i * 50)}`,
        html: i % 2 ? `<p>Message <b>${i}</b> <img src="cid:logo-${i}@example.org"></p>` : undefined,
        attachments: attachments.slice(0, 4 + i),
      }),
    });
  }
  out.push({ name: 'composed-lf', raw: Buffer.from(out[3].raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1') });
  return out;
}

/** Whether readMessage took the shortcut: the reduced message parses and every marker checks out. */
async function elidedCleanly(raw: Buffer): Promise<boolean> {
  const elided = elideAttachmentBodies(raw);
  if (!elided) return false;
  const email = await PostalMime.parse(elided.reduced, { attachmentEncoding: 'arraybuffer' });
  return sizesOfElided(email.attachments, elided.elided) !== null;
}

describe('elideAttachmentBodies', () => {
  it('reads the same fields as a full parse on the hard cases and composed messages', async () => {
    const corpus = [...hardCases(), ...(await composedCorpus())];
    let shortcuts = 0;
    for (const { name, raw } of corpus) {
      const fast = await readMessage(raw, OPTIONS);
      const full = await readMessage(raw, { ...OPTIONS, elideAttachments: false });
      expect(fast, name).toEqual(full);
      if (await elidedCleanly(raw)) shortcuts++;
    }
    // The large-attachment hard case and every composed message take the shortcut.
    expect(shortcuts).toBe(6);
  });

  it('lists the composed attachments with their real names, types and sizes', async () => {
    const corpus = await composedCorpus();
    const m = await readMessage(corpus[3].raw, OPTIONS);
    // Every large body is elided: the pdf, csv (quoted-printable), notes (7bit), gif, attached.eml
    // as a whole, and inner.bin inside the inline fwd.eml.
    expect(elideAttachmentBodies(corpus[3].raw)?.elided.map((e) => e.size)).toHaveLength(6);
    expect(await elidedCleanly(corpus[3].raw)).toBe(true);
    const byName = new Map(m.attachments.map((a) => [a.filename, a]));
    // fwd.eml is read in place: its own attachment is listed instead.
    expect([...byName.keys()].sort()).toEqual(['attached.eml', 'data.csv', 'inner.bin', 'logo.gif', 'notes.txt', 'report-3.pdf', 'tiny.png']);
    expect(byName.get('report-3.pdf')).toEqual({ filename: 'report-3.pdf', contentType: 'application/pdf', size: 40 * 1024 + 3 * 333 });
    expect(byName.get('logo.gif')).toEqual({ filename: 'logo.gif', contentType: 'image/gif', size: 9000 });
    expect(byName.get('tiny.png')).toEqual({ filename: 'tiny.png', contentType: 'image/png', size: 103 });
    expect(byName.get('data.csv')?.contentType).toBe('text/csv');
    expect(byName.get('inner.bin')?.size).toBe(5000);
    expect(byName.get('attached.eml')?.contentType).toBe('message/rfc822');
    expect(m.text).toContain('quoted text line');
    expect(m.text).toContain('Message 3');
    expect(m.text).not.toContain('sluice-elided');
  });

  it('replaces only large attachment bodies, keeping their headers', () => {
    const raw = messageWithAttachment('e-1', pseudoRandomBytes(3000, 1), 'x.pdf');
    const elided = elideAttachmentBodies(raw);
    expect(elided).not.toBeNull();
    expect(elided!.elided).toHaveLength(1);
    expect(elided!.elided[0].size).toBe(3000);
    expect(elided!.reduced.length).toBeLessThan(1000);
    expect(elided!.reduced.toString()).toContain('Content-Disposition: attachment; filename="x.pdf"');
    expect(elided!.reduced.toString()).toContain('See the attached file (e-1).');
    expect(elideAttachmentBodies(messageWithAttachment('e-2', pseudoRandomBytes(1000, 1)))).toBeNull();
    expect(elideAttachmentBodies(raw, { minBodyBytes: 10_000 })).toBeNull();
  });

  it('leaves undelimited MIME to the full parse', () => {
    const unterminated = hardCases().find((c) => c.name === 'unterminated-multipart')!.raw;
    expect(elideAttachmentBodies(unterminated, { minBodyBytes: 0 })).toBeNull();
    const cut = messageWithAttachment('e-3', pseudoRandomBytes(8000, 1));
    expect(elideAttachmentBodies(cut.subarray(0, cut.length - 20))).toBeNull();
  });

  it('falls back when postal-mime does not give the markers back one to one', async () => {
    // In a delivery report postal-mime keeps the returned message whole, markers and all.
    const inner = messageWithAttachment('r-1', pseudoRandomBytes(6000, 2), 'returned.pdf').toString();
    const report = Buffer.from(
      [
        'From: mailer-daemon@example.org',
        'Subject: Undelivered',
        'Content-Type: multipart/report; report-type=delivery-status; boundary=rep',
        '',
        '--rep',
        'Content-Type: text/plain',
        '',
        'Could not deliver.',
        '--rep',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; mx.example.org',
        '--rep',
        'Content-Type: message/rfc822',
        '',
        inner,
        '--rep--',
        '',
      ].join('\r\n'),
    );
    expect(await elidedCleanly(report)).toBe(false);
    expect(await readMessage(report, OPTIONS)).toEqual(await readMessage(report, { ...OPTIONS, elideAttachments: false }));
    const expected = [Buffer.from('m0'), Buffer.from('m1')];
    const elided = expected.map((e, i) => ({ expected: e, size: 10 + i }));
    const content = (s: string): ArrayBuffer => new Uint8Array(Buffer.from(s)).buffer;
    expect(sizesOfElided([{ content: content('x') }, { content: content('m0') }, { content: 'm1' }], elided)).toEqual([null, 10, 11]);
    expect(sizesOfElided([{ content: content('m1') }, { content: content('m0') }], elided)).toBeNull();
    expect(sizesOfElided([{ content: content('m0') }], elided)).toBeNull();
  });
});

describe('decodedSize', () => {
  /** postal-mime's size of a delimited attachment with this body, and ours from the scanned range. */
  async function sizes(body: string, encoding: string): Promise<[number, number]> {
    const raw = Buffer.from(
      [
        'Content-Type: multipart/mixed; boundary="b.b"',
        '',
        '--b.b',
        'Content-Type: application/octet-stream',
        `Content-Transfer-Encoding: ${encoding}`,
        '',
        body,
        '--b.b--',
        '',
      ].join('\r\n'),
      'latin1',
    );
    const email = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer' });
    const content = email.attachments[0]?.content;
    const theirs = content === undefined || typeof content === 'string' ? -1 : content.byteLength;
    const [part] = leafParts(scanParts(raw));
    return [theirs, decodedSize(raw, part.bodyStart, part.bodyEnd, part.transferEncoding)];
  }

  it('matches postal-mime on clean bodies', async () => {
    for (const n of [1, 2, 3, 4, 57, 58, 59, 1000]) {
      const [theirs, ours] = await sizes(pseudoRandomBytes(n, n).toString('base64').replace(/.{76}/g, '$&\r\n'), 'base64');
      expect(ours).toBe(n);
      expect(theirs).toBe(n);
    }
    expect(await sizes('a=3Db=\r\nc\r\n\r\nd', 'quoted-printable')).toEqual([8, 8]);
    expect(await sizes('a,b\r\n1,2', '7bit')).toEqual([8, 8]);
  });

  it('matches postal-mime on arbitrary bodies in every encoding', async () => {
    const alphabet = ['A', 'z', '0', '+', '/', '=', '==', '\r\n', '\n', '\r', ' ', '\t', '=4', '=41', '=4g', '-', '\u00e9', '!'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...alphabet), { maxLength: 60 }).map((a) => a.join('')),
        fc.constantFrom('base64', 'BASE64', 'quoted-printable', '7bit', '8bit', 'binary', 'x-unknown'),
        async (body, encoding) => {
          const [theirs, ours] = await sizes(body, encoding);
          expect(ours).toBe(theirs);
        },
      ),
      { numRuns: 400 },
    );
  });
});
