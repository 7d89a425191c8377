/** Third-party SMTP clients against the MX listener: Python's smtplib and nodemailer. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN, HOSTNAME, startHarness, type Harness } from './smtp-test-kit.ts';
import { ensureTlsCertificate, type TlsCertificate } from './tls.ts';
import type { MailReceived } from '../schemas/types.ts';

let certDir: string;
let tls: TlsCertificate;
let h: Harness;

beforeAll(async () => {
  certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
  tls = ensureTlsCertificate(certDir, HOSTNAME);
  h = await startHarness({ tls });
});
afterAll(async () => {
  await h?.close();
  fs.rmSync(certDir, { recursive: true, force: true });
});

/** Sends two messages with smtplib (the second after starttls()) and prints the reply codes as JSON. */
const PYTHON_CLIENT = `
import json, smtplib, ssl, sys
port, cafile, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
msg = "From: py@remote.example\\r\\nTo: %s\\r\\nSubject: %s\\r\\n\\r\\nHello from smtplib.\\r\\n"
out = []
with smtplib.SMTP("127.0.0.1", port, local_hostname="py.client.example", timeout=10) as s:
    out.append(s.ehlo()[0])
    out.append(s.mail("py@remote.example")[0])
    out.append(s.rcpt(rcpt)[0])
    out.append(s.data(msg % (rcpt, "plain"))[0])
with smtplib.SMTP("127.0.0.1", port, local_hostname="py.client.example", timeout=10) as s:
    s.ehlo()
    out.append(s.starttls(context=ssl.create_default_context(cafile=cafile))[0])
    out.append(s.ehlo()[0])
    out.append(s.mail("py@remote.example")[0])
    out.append(s.rcpt(rcpt)[0])
    out.append(s.data(msg % (rcpt, "tls"))[0])
print(json.dumps(out))
`;

/** Records on mail.received that were not in `before` (records come in partition order, not time order). */
async function newRecords(before: MailReceived[]): Promise<MailReceived[]> {
  const seen = new Set(before.map((r) => `${r.ingressId} ${r.userId}`));
  return (await h.records()).filter((r) => !seen.has(`${r.ingressId} ${r.userId}`));
}

function runPython(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', PYTHON_CLIENT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('SMTP MX with real clients', () => {
  it("Python's smtplib delivers two messages, one over STARTTLS", async () => {
    const before = await h.records();
    const caFile = path.join(certDir, 'tls', 'cert.pem');
    const result = await runPython([String(h.port), caFile, `alice@${DOMAIN}`]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([250, 250, 250, 250, 220, 250, 250, 250, 250]);
    const records = await newRecords(before);
    expect(records).toHaveLength(2);
    const bodies = await Promise.all(records.map(async (r) => (await h.blobs.get(r.rawBlob)).toString('utf8')));
    expect(bodies.find((b) => b.includes('Subject: plain'))).toContain(' with ESMTP id ');
    expect(bodies.find((b) => b.includes('Subject: tls'))).toContain(' with ESMTPS id ');
    expect(records.every((r) => r.helo === 'py.client.example' && r.mailFrom === 'py@remote.example')).toBe(true);
  });

  it('nodemailer delivers over STARTTLS (requireTLS) to two recipients', async () => {
    const before = await h.records();
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: h.port,
      secure: false,
      requireTLS: true,
      name: 'nodemailer.client.example',
      tls: { ca: tls.cert, servername: 'localhost' },
    });
    try {
      const info = await transport.sendMail({
        from: 'nm@remote.example',
        to: [`alice@${DOMAIN}`, `bob@${DOMAIN}`],
        subject: 'From nodemailer',
        text: 'Hello, with a line\nthat nodemailer turns into CRLF.',
      });
      expect(info.accepted).toEqual([`alice@${DOMAIN}`, `bob@${DOMAIN}`]);
      expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as /);
    } finally {
      transport.close();
    }
    const records = await newRecords(before);
    expect(records.map((r) => r.userId).sort()).toEqual([`alice@${DOMAIN}`, `bob@${DOMAIN}`]);
    const raw = (await h.blobs.get(records[0].rawBlob)).toString('utf8');
    expect(raw).toContain('Subject: From nodemailer');
    expect(raw).toContain(' with ESMTPS id ');
  });

  it('nodemailer gets the 550 for an unknown user and the 554 for a relay attempt', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: h.port, secure: false, ignoreTLS: true });
    try {
      await expect(transport.sendMail({ from: 'nm@remote.example', to: `nobody@${DOMAIN}`, subject: 'x', text: 'x' })).rejects.toMatchObject({
        responseCode: 550,
      });
      await expect(transport.sendMail({ from: 'nm@remote.example', to: 'someone@elsewhere.example', subject: 'x', text: 'x' })).rejects.toMatchObject({
        responseCode: 554,
      });
    } finally {
      transport.close();
    }
  });
});
