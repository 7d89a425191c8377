/**
 * The BlobStore contract on a real S3 server: the versitygw that `bash ops/engines/s3.sh up`
 * (or `ops/stack up s3`) starts. Run with `npm run test:distributed`; SLUICE_S3_ENDPOINT overrides
 * the endpoint. No server answering fails the run: it never skips.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DeleteBucketCommand, DeleteObjectsCommand, HeadBucketCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobNotFoundError } from './blob.ts';
import { runBlobStoreConformance } from './conformance.ts';
import { S3BlobStore, type S3BlobStoreOptions } from './s3.ts';

const endpoint = process.env.SLUICE_S3_ENDPOINT ?? 'http://127.0.0.1:19000';
const base = { endpoint, region: 'us-east-1', accessKeyId: 'sluice', secretAccessKey: 'sluice-secret-key' } as const;
const admin = new S3Client({ ...base, forcePathStyle: true, credentials: { accessKeyId: base.accessKeyId, secretAccessKey: base.secretAccessKey }, maxAttempts: 1 });
const buckets: string[] = [];

/** A bucket name of its own per test (S3 names: lowercase, digits, hyphens, 3–63 characters). */
function freshBucket(): string {
  const name = `sluice-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  buckets.push(name);
  return name;
}

async function removeBucket(bucket: string): Promise<void> {
  for (;;) {
    const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
    if (keys.length === 0) break;
    await admin.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await admin.send(new DeleteBucketCommand({ Bucket: bucket }));
}

async function bucketExists(bucket: string): Promise<boolean> {
  try {
    await admin.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw error;
  }
}

afterAll(async () => {
  for (const bucket of buckets) if (await bucketExists(bucket)) await removeBucket(bucket);
  admin.destroy();
});

describe('an S3 server answers', () => {
  it(`at ${endpoint} (start it with: bash ops/engines/s3.sh up)`, async () => {
    await expect(admin.send(new ListBucketsCommand({}))).resolves.toHaveProperty('Buckets');
  });
});

runBlobStoreConformance('s3 (versitygw)', async () => {
  const options: S3BlobStoreOptions = { ...base, bucket: freshBucket() };
  let blobs = new S3BlobStore(options);
  return {
    blobs,
    async reopen() {
      await blobs.close();
      blobs = new S3BlobStore(options);
      return blobs;
    },
    async cleanup() {
      await blobs.close();
      if (await bucketExists(options.bucket)) await removeBucket(options.bucket); // a test that put nothing made none
    },
  };
});

describe('S3BlobStore on versitygw', () => {
  it('creates its bucket when missing, and open() on an existing bucket is fine', async () => {
    const bucket = freshBucket();
    expect(await bucketExists(bucket)).toBe(false);
    const store = await S3BlobStore.open({ ...base, bucket });
    expect(await bucketExists(bucket)).toBe(true);
    const again = await S3BlobStore.open({ ...base, bucket });
    const id = await store.put(Buffer.from('hello'));
    expect((await again.get(id)).toString()).toBe('hello');
    await store.close();
    await again.close();
  });

  it('keys objects by content: <prefix>sha256/<first two hex>/<id>', async () => {
    const bucket = freshBucket();
    const store = new S3BlobStore({ ...base, bucket, prefix: 'mail/' });
    const bytes = Buffer.from('Subject: hi\r\n\r\nhello\r\n');
    const id = await store.put(bytes);
    expect(id).toBe(createHash('sha256').update(bytes).digest('hex'));
    const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([`mail/sha256/${id.slice(0, 2)}/${id}`]);
    await store.close();
  });

  it('round-trips a 20 MiB blob as a multipart upload (3 parts of at most 8 MiB), and a second put of it uploads nothing', async () => {
    const bucket = freshBucket();
    const store = new S3BlobStore({ ...base, bucket });
    const bytes = randomBytes(20 * 1024 * 1024);
    const id = await store.put(bytes);
    expect(id).toBe(createHash('sha256').update(bytes).digest('hex'));
    const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: store.keyOf(id) }));
    expect(head.ContentLength).toBe(bytes.length);
    // A multipart object's ETag is the MD5 of its parts' MD5s, then "-<number of parts>".
    expect(head.ETag).toMatch(/-3"$/);
    expect((await store.get(id)).equals(bytes)).toBe(true);
    const modified = head.LastModified?.getTime();
    await new Promise((r) => setTimeout(r, 1100)); // S3 times have one-second resolution
    expect(await store.put(Buffer.from(bytes))).toBe(id);
    const after = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: store.keyOf(id) }));
    expect(after.LastModified?.getTime()).toBe(modified);
    await store.close();
  });

  it('a wrong secret is refused, not taken for a missing blob', async () => {
    const bucket = freshBucket();
    const good = await S3BlobStore.open({ ...base, bucket });
    const id = await good.put(Buffer.from('secret'));
    const bad = new S3BlobStore({ ...base, bucket, secretAccessKey: 'wrong' });
    // The first call HEADs the bucket: a HEAD's 403 has no body, so the SDK names it by status only.
    for (const call of [() => bad.get(id), () => bad.has(id), () => bad.put(Buffer.from('x'))]) {
      const error: unknown = await call().then(() => undefined, (e: unknown) => e);
      expect(error).not.toBeInstanceOf(BlobNotFoundError);
      expect(error).toMatchObject({ $metadata: { httpStatusCode: 403 } });
    }
    await good.close();
    await bad.close();
  });

  it('the server refuses a body whose x-amz-checksum-sha256 does not match it (what put relies on)', async () => {
    const bucket = freshBucket();
    const store = await S3BlobStore.open({ ...base, bucket });
    const other = createHash('sha256').update('other bytes').digest('base64');
    await expect(admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: Buffer.from('these bytes'), ChecksumSHA256: other }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 400 },
    });
    await expect(admin.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    await store.close();
  });

  it('open() fails at once when nothing listens at the endpoint', async () => {
    await expect(S3BlobStore.open({ ...base, endpoint: 'http://127.0.0.1:1', bucket: 'sluice-nothing-here' })).rejects.toThrow();
  });
});
