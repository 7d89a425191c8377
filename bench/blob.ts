/**
 * `npm run bench -- --suite blob`: put then get of N distinct blobs (default 1,000 × 50 KiB) on the
 * S3 blob store (the versitygw that `bash ops/engines/s3.sh up` starts) beside the embedded
 * default (SQLite up to 4 KiB, files above: `openEmbeddedBlobStore`), interleaved in one run, at each
 * concurrency. Figures: MB/s (10^6 bytes of blob payload per second of wall time), blobs/s and
 * this process's CPU ms per blob. Writes bench-results/blob-<stamp>.{jsonl,md}.
 * Options: --count 1000 --size 50k --concurrency 1,16 --reps 3 --stores s3,embedded
 * --endpoint http://127.0.0.1:19000 --out bench-results
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from '../connectors/blob/blob.ts';
import { S3BlobStore } from '../connectors/blob/s3.ts';
import { openEmbeddedBlobStore } from '../ops/app.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const S3 = { region: 'us-east-1', accessKeyId: 'sluice', secretAccessKey: 'sluice-secret-key' } as const;

interface BlobRecord {
  readonly store: string;
  readonly rep: number;
  readonly concurrency: number;
  readonly count: number;
  readonly size: number;
  readonly putMBps: number;
  readonly getMBps: number;
  readonly putPerS: number;
  readonly getPerS: number;
  readonly putCpuMsPerBlob: number;
  readonly getCpuMsPerBlob: number;
}

function log(line: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

function parseSize(text: string): number {
  const m = /^(\d+)([kKmM]?)$/.exec(text);
  if (!m) throw new Error(`--size: a number of bytes, or with k or m, not ${text}`);
  return Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]) ? 1024 : 1024 * 1024);
}

/** Runs `work(i)` for i in [0, n) with at most `concurrency` in flight; wall ms and CPU ms. */
async function timed(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<{ ms: number; cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await work(next++);
    }),
  );
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

interface Target {
  readonly name: string;
  open(): Promise<{ blobs: BlobStore; cleanup(): Promise<void> }>;
}

function s3Target(endpoint: string): Target {
  return {
    name: 's3 (versitygw)',
    async open() {
      const bucket = `sluice-bench-${process.pid}-${randomBytes(4).toString('hex')}`;
      const blobs = await S3BlobStore.open({ ...S3, endpoint, bucket });
      return {
        blobs,
        async cleanup() {
          await blobs.close();
          const admin = new S3Client({ ...S3, endpoint, forcePathStyle: true, credentials: { accessKeyId: S3.accessKeyId, secretAccessKey: S3.secretAccessKey } });
          for (;;) {
            const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket }));
            const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
            if (keys.length === 0) break;
            await admin.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
          }
          await admin.send(new DeleteBucketCommand({ Bucket: bucket }));
          admin.destroy();
        },
      };
    },
  };
}

const embeddedTarget: Target = {
  name: 'embedded (sqlite ≤ 4 KiB, files above)',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-blob-'));
    const blobs = openEmbeddedBlobStore(dir);
    return {
      blobs,
      async cleanup() {
        await blobs.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

export async function blobMain(args: readonly string[]): Promise<void> {
  const { values: o } = parseArgs({
    args: [...args],
    options: {
      count: { type: 'string', default: '1000' },
      size: { type: 'string', default: '50k' },
      concurrency: { type: 'string', default: '1,16' },
      reps: { type: 'string', default: '3' },
      stores: { type: 'string', default: 's3,embedded' },
      endpoint: { type: 'string', default: process.env.SLUICE_S3_ENDPOINT ?? 'http://127.0.0.1:19000' },
      out: { type: 'string', default: join(ROOT, 'bench-results') },
    },
  });
  const count = Number(o.count);
  const size = parseSize(o.size);
  const concurrencies = o.concurrency.split(',').map(Number);
  const reps = Number(o.reps);
  const targets = o.stores.split(',').map((s) => {
    if (s === 's3') return s3Target(o.endpoint);
    if (s === 'embedded') return embeddedTarget;
    throw new Error(`--stores: s3 and/or embedded, not ${s}`);
  });

  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  mkdirSync(o.out, { recursive: true });
  const jsonlPath = join(o.out, `blob-${stamp}.jsonl`);
  const mdPath = join(o.out, `blob-${stamp}.md`);
  const facts = [
    `date ${new Date().toISOString()}, nproc ${cpus().length} (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, kernel ${release()}, Node ${process.version}`,
    `${count} distinct random blobs of ${size} bytes per run; put all, then get all (the same store, right after); S3 at ${o.endpoint}`,
  ];
  for (const f of facts) log(f);

  const records: BlobRecord[] = [];
  const mb = (count * size) / 1e6;
  for (let rep = 1; rep <= reps; rep++) {
    for (const concurrency of concurrencies) {
      for (const target of targets) {
        const bodies = Array.from({ length: count }, () => randomBytes(size));
        const ids: string[] = new Array<string>(count);
        const { blobs, cleanup } = await target.open();
        try {
          const put = await timed(count, concurrency, async (i) => {
            ids[i] = await blobs.put(bodies[i]);
          });
          const get = await timed(count, concurrency, async (i) => {
            const bytes = await blobs.get(ids[i]);
            if (!bytes.equals(bodies[i])) throw new Error(`${target.name}: blob ${ids[i]} came back different`);
          });
          const r: BlobRecord = {
            store: target.name,
            rep,
            concurrency,
            count,
            size,
            putMBps: mb / (put.ms / 1000),
            getMBps: mb / (get.ms / 1000),
            putPerS: count / (put.ms / 1000),
            getPerS: count / (get.ms / 1000),
            putCpuMsPerBlob: put.cpuMs / count,
            getCpuMsPerBlob: get.cpuMs / count,
          };
          records.push(r);
          appendFileSync(jsonlPath, JSON.stringify(r) + '\n');
          log(
            `  rep ${rep} c=${concurrency} ${r.store}: put ${r.putMBps.toFixed(1)} MB/s (${r.putPerS.toFixed(0)}/s, CPU ${r.putCpuMsPerBlob.toFixed(2)} ms), ` +
              `get ${r.getMBps.toFixed(1)} MB/s (${r.getPerS.toFixed(0)}/s, CPU ${r.getCpuMsPerBlob.toFixed(2)} ms)`,
          );
        } finally {
          await cleanup();
        }
      }
    }
  }

  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const lines = [
    `# Blob store: ${count} × ${size} B put then get`,
    '',
    ...facts.map((f) => `- ${f}`),
    '',
    `Median of ${reps} rep(s); MB = 10^6 bytes of payload; CPU is this (client) process only.`,
    '',
    '| store | c | put MB/s | put blobs/s | get MB/s | get blobs/s | put CPU ms/blob | get CPU ms/blob |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const concurrency of concurrencies) {
    for (const target of targets) {
      const rs = records.filter((r) => r.store === target.name && r.concurrency === concurrency);
      const m = (f: (r: BlobRecord) => number, d: number) => median(rs.map(f)).toFixed(d);
      lines.push(
        `| ${target.name} | ${concurrency} | ${m((r) => r.putMBps, 1)} | ${m((r) => r.putPerS, 0)} | ${m((r) => r.getMBps, 1)} | ${m((r) => r.getPerS, 0)} | ${m((r) => r.putCpuMsPerBlob, 2)} | ${m((r) => r.getCpuMsPerBlob, 2)} |`,
      );
    }
  }
  const md = lines.join('\n') + '\n';
  writeFileSync(mdPath, md);
  console.log('\n' + md);
  log(`wrote ${mdPath} and ${jsonlPath}`);
}
