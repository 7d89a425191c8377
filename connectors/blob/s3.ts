/**
 * The distributed blob store: any S3 (tests run versitygw, `ops/engines/s3.sh`), through
 * `@aws-sdk/client-s3`, path-style. Content-addressed like its embedded twins: blob `id` (SHA-256
 * hex) is the object `<prefix>sha256/<id[0..2]>/<id>` — the two-character fan-out spreads keys
 * over S3 prefixes (per-prefix request-rate limits) and keeps a listing of one shard short.
 *
 * `put` resolves once S3 answered 200 to the PutObject (or CompleteMultipartUpload), i.e. the
 * object is durable by the server's own promise. Each single-part put carries the body's SHA-256
 * as `x-amz-checksum-sha256`, which the server verifies before it stores anything, so a body
 * damaged on the way is refused, never stored under an id it does not hash to. Bodies above
 * `multipartThreshold` (8 MiB) go up in parts through `@aws-sdk/lib-storage` after a HEAD shows
 * they are not stored yet (deduplication without sending 30 MB again); smaller ones are simply
 * PUT, since writing identical bytes over identical bytes is harmless and one round trip is
 * cheaper than two. The bucket is created on first use when missing.
 */
import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BlobNotFoundError, type BlobStore } from './blob.ts';
import { checkHealth, type EngineHealth } from '../health.ts';

export interface S3BlobStoreOptions {
  /** e.g. `http://127.0.0.1:19000`. */
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Prepended to every key (e.g. `mail/`); default none. */
  readonly prefix?: string;
  /** Bodies larger than this go up as a multipart upload; default 8 MiB. */
  readonly multipartThreshold?: number;
  /** Part size of a multipart upload (S3's minimum is 5 MiB); default 8 MiB. */
  readonly partSize?: number;
  /** Parts of one multipart upload in flight at once; default 4. */
  readonly multipartConcurrency?: number;
  /** Keep-alive connections to the server; default 64 (requests beyond wait for one). */
  readonly maxSockets?: number;
  /** Path-style addressing (`endpoint/bucket/key`), which versitygw and MinIO need; default true. */
  readonly forcePathStyle?: boolean;
}

const BLOB_ID = /^[0-9a-f]{64}$/;
const MiB = 1024 * 1024;

export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly region: string;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly multipartConcurrency: number;
  private bucketReady: Promise<void> | undefined;
  private closed = false;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.region = options.region;
    this.partSize = options.partSize ?? 8 * MiB;
    if (this.partSize < 5 * MiB) throw new Error(`S3 partSize must be at least 5 MiB, not ${this.partSize}`);
    this.multipartThreshold = Math.max(options.multipartThreshold ?? 8 * MiB, this.partSize);
    this.multipartConcurrency = options.multipartConcurrency ?? 4;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: options.forcePathStyle ?? true,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      // Checksums only where S3 requires them; put sends its SHA-256, which we computed anyway.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { httpAgent: new Agent(agentOptions), httpsAgent: new HttpsAgent(agentOptions), connectionTimeout: 5000 },
    });
  }

  /** Creates the store and makes sure its bucket exists: fails here, at start, when S3 does not answer. */
  static async open(options: S3BlobStoreOptions): Promise<S3BlobStore> {
    const store = new S3BlobStore(options);
    try {
      await store.ensureBucket();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** The object key of blob `id`. */
  keyOf(id: string): string {
    return `${this.prefix}sha256/${id.slice(0, 2)}/${id}`;
  }

  async put(bytes: Buffer): Promise<string> {
    this.assertOpen();
    await this.ensureBucket();
    const digest = createHash('sha256').update(bytes).digest();
    const id = digest.toString('hex');
    const key = this.keyOf(id);
    if (bytes.length <= this.multipartThreshold) {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentLength: bytes.length, ChecksumSHA256: digest.toString('base64') }));
      return id;
    }
    if (await this.headObject(key)) return id;
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: bytes },
      partSize: this.partSize,
      queueSize: this.multipartConcurrency,
      leavePartsOnError: false, // a failed upload is aborted, so its parts do not linger (and cost)
    });
    await upload.done();
    return id;
  }

  async get(id: string): Promise<Buffer> {
    this.assertOpen();
    if (!BLOB_ID.test(id)) throw new BlobNotFoundError(id);
    await this.ensureBucket();
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(id) }));
      if (out.Body === undefined) return Buffer.alloc(0);
      const bytes = await out.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(id);
      throw error;
    }
  }

  async has(id: string): Promise<boolean> {
    this.assertOpen();
    if (!BLOB_ID.test(id)) return false;
    await this.ensureBucket();
    return this.headObject(this.keyOf(id));
  }

  async delete(id: string): Promise<void> {
    this.assertOpen();
    if (!BLOB_ID.test(id)) return;
    await this.ensureBucket();
    // S3 answers 204 whether or not the key was there: delete is idempotent by itself.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(id) }));
  }

  /** A HEAD of the bucket (S3 HeadBucket); S3 answering that it is not there yet is fine (the first put makes it). */
  health(): Promise<EngineHealth> {
    return checkHealth('s3', async () => {
      this.assertOpen();
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
        return `bucket ${this.bucket}`;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        return `bucket ${this.bucket} made at the first put`;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
  }

  /** Once per store (again after a failure): HEAD the bucket, create it when S3 says it is not there. */
  private ensureBucket(): Promise<void> {
    this.bucketReady ??= this.createBucketIfMissing().catch((error: unknown) => {
      this.bucketReady = undefined;
      throw error;
    });
    return this.bucketReady;
  }

  private async createBucketIfMissing(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    try {
      await this.client.send(
        new CreateBucketCommand({
          Bucket: this.bucket,
          // us-east-1 is the one region that takes no LocationConstraint.
          ...(this.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: this.region as BucketLocationConstraint } }),
        }),
      );
    } catch (error) {
      // Another process created it first: just as good.
      if (!(error instanceof S3ServiceException && error.name === 'BucketAlreadyOwnedByYou')) throw error;
    }
  }

  private async headObject(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('blob store is closed');
  }
}

/**
 * S3's "not there": NoSuchKey on GET, a bare 404 (`NotFound`) on HEAD. A missing bucket on a GET
 * (NoSuchBucket) is an error of its own, not a missing blob.
 */
function isNotFound(error: unknown): boolean {
  return error instanceof S3ServiceException && error.name !== 'NoSuchBucket' && (error.$metadata.httpStatusCode === 404 || error.name === 'NoSuchKey' || error.name === 'NotFound');
}
