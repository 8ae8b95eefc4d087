/**
 * The S3 store: AWS S3, MinIO, R2 and other S3-protocol servers, through one @aws-sdk/client-s3.
 *
 * Puts stream through a VerifyingHasher into lib-storage's Upload (one PUT for small bodies,
 * multipart for large ones, at most about `partSize * (queueSize + 1)` bytes in memory). The
 * sha256 is stored as object metadata (`x-amz-meta-sha256`).
 *
 * Nothing unverified becomes visible: the hasher fails the stream before it ends when the content
 * is not the expected sha256/size (or the source fails), and Upload only sends the PUT, or
 * completes the multipart upload, after the stream has ended cleanly; otherwise it aborts the
 * multipart upload. So no temporary key and no copy are needed, and a corrupt manifest or model is
 * never visible, not even for a moment.
 *
 * Metadata can only be set when an object is written, and the sha256 of a stream is only known at
 * its end. Callers that know it (Kiln always does: models are hashed on upload, artifact files
 * before publishing) pass `sha256` and it is sent up front; Buffers and strings are hashed up front.
 * For a stream with no expected sha256 the object is written first and then copied onto itself
 * with the sha256 added (CopySourceIfMatch, so only the bytes just written are annotated); in
 * between, head() reports no sha256 for it.
 *
 * Conditional puts use the real headers (If-None-Match: *, If-Match: <etag>) on the PUT or on
 * CompleteMultipartUpload: atomic on AWS S3, MinIO and R2. Servers that ignore them (s3rver, the
 * test server) need `conditionalWrites: 'emulated'`: a head before the put, which is racy (two
 * writers can both pass the check), so it is for tests and single-writer setups only.
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createReadStream } from 'node:fs';
import { PassThrough, Readable, pipeline } from 'node:stream';
import { sha256Hex } from '../core/hash';
import type { AdoptOptions, ArtifactStore, ByteRange, GetResult, ObjectInfo, PutOptions } from './artifact-store';
import { assertValidRange, rangeHeader } from './byte-range';
import { NotFoundError, RangeNotSatisfiableError, StoreError } from './errors';
import { assertValidKey, assertValidPrefix } from './key-rules';
import { assertValidPutOptions, DEFAULT_CONTENT_TYPE, preconditionFailed } from './put-conditions';
import { toReadable, VerifyingHasher } from './verifying-hasher';

const MiB = 1024 * 1024;

export interface S3StoreOptions {
  bucket: string;
  /** Region; MinIO and most other servers accept `us-east-1`. */
  region: string;
  /** Endpoint of a non-AWS server, e.g. `http://127.0.0.1:9000` for MinIO (Default: AWS). */
  endpoint?: string;
  /**
   * Endpoint clients reach for presigned downloads, when it differs from the one Kiln uses (e.g.
   * `http://minio:9000` inside docker-compose, `http://localhost:9000` outside). A presigned URL's
   * signature covers its host, so URLs are signed for this endpoint (Default: endpoint).
   */
  publicEndpoint?: string;
  /** Bucket in the path rather than the host name; MinIO needs it (Default: false). */
  forcePathStyle?: boolean;
  /** Without these, the AWS SDK's default credential chain is used (environment, profile, IAM role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Prefix of every key inside the bucket, e.g. `kiln/` (Default: none). */
  prefix?: string;
  /**
   * `native`: conditional headers, atomic (AWS S3, MinIO, R2). `emulated`: head, then put; racy,
   * for servers that ignore the headers, such as s3rver (Default: native).
   */
  conditionalWrites?: 'native' | 'emulated';
  /** Multipart part size in bytes, at least 5 MiB (Default: 8 * MiB). */
  partSize?: number;
  /** Parts uploaded at once (Default: 2). */
  queueSize?: number;
}

export class S3Store implements ArtifactStore {
  readonly kind = 's3';
  readonly client: S3Client;
  private readonly presignClient: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly emulated: boolean;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(options: S3StoreOptions) {
    if (!options.bucket) throw new StoreError(`Expected an S3 bucket name but received ${JSON.stringify(options.bucket)}`);
    const prefix = options.prefix ?? '';
    if (prefix !== '') assertValidPrefix(prefix);
    const mode = options.conditionalWrites ?? 'native';
    if (mode !== 'native' && mode !== 'emulated') {
      throw new StoreError(`Expected conditionalWrites 'native' or 'emulated' but received ${JSON.stringify(mode)}`);
    }
    this.bucket = options.bucket;
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.emulated = mode === 'emulated';
    this.partSize = options.partSize ?? 8 * MiB;
    this.queueSize = options.queueSize ?? 2;
    const { accessKeyId, secretAccessKey } = options;
    const clientFor = (endpoint: string | undefined) =>
      new S3Client({
        region: options.region,
        endpoint,
        forcePathStyle: options.forcePathStyle ?? false,
        credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
        // The SDK's default adds CRC checksums that MinIO, R2 and others do not all accept.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
    this.client = clientFor(options.endpoint);
    this.presignClient = options.publicEndpoint ? clientFor(options.publicEndpoint) : this.client;
  }

  /**
   * One streamed pass: the sha256 is known, so the PUT carries it up front and the body is read
   * once (the hasher on the way still checks it, at memory speed, against what the caller said).
   */
  async adopt(key: string, file: string, options: AdoptOptions): Promise<ObjectInfo> {
    return this.put(key, createReadStream(file), options);
  }

  async put(key: string, body: Readable | Buffer | string, options: PutOptions = {}): Promise<ObjectInfo> {
    assertValidKey(key);
    assertValidPutOptions(key, options);
    const knownSha256 = options.sha256?.toLowerCase() ?? (typeof body === 'string' || Buffer.isBuffer(body) ? sha256Hex(body) : undefined);
    const contentType = options.contentType ?? DEFAULT_CONTENT_TYPE;
    const hasher = new VerifyingHasher(key, options);
    // Upload reads the hasher's `size` as the body's length, so it gets a stream behind it; errors
    // (the hasher's, the source's) travel down the pipeline to what Upload reads.
    const uploaded = new PassThrough();
    pipeline(toReadable(body), hasher, uploaded, () => {});
    // The body's own failure (IntegrityError, a broken source) is the one to report, even when
    // aborting the multipart upload then fails too (s3rver has no AbortMultipartUpload).
    let bodyError: unknown;
    hasher.once('error', (err) => (bodyError = err));
    let etag: string | undefined;
    try {
      if (this.emulated) await this.checkPrecondition(key, options);
      const upload = new Upload({
        client: this.client,
        partSize: this.partSize,
        queueSize: this.queueSize,
        params: {
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: uploaded,
          ContentType: contentType,
          Metadata: knownSha256 ? { sha256: knownSha256 } : undefined,
          IfNoneMatch: this.emulated ? undefined : options.ifNoneMatch,
          IfMatch: this.emulated ? undefined : options.ifMatch,
        },
      });
      etag = (await upload.done()).ETag;
    } catch (err) {
      hasher.destroy(); // and with it the source, so a failed put leaves no open file behind
      throw bodyError ?? this.translate(err, key, options);
    }
    const sha256 = hasher.sha256!;
    if (!knownSha256) etag = await this.attachSha256(key, etag, sha256, contentType);
    if (!etag) throw new StoreError(`The S3 server returned no ETag for ${key}`);
    // S3 returns no modification time on a put; the server's own is within the request's duration.
    return { key, size: hasher.size, etag, sha256, lastModified: new Date(), contentType };
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    assertValidKey(key);
    if (range) assertValidRange(key, range);
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Range: range ? rangeHeader(range) : undefined }),
      );
      const served = parseContentRange(res.ContentRange);
      if (range && (!served || served.start !== range.start || served.end !== Math.min(range.end ?? Infinity, served.size - 1))) {
        (res.Body as Readable | undefined)?.destroy();
        // s3rver answers `bytes=0-0` with the whole object; passing that off as the range would be wrong.
        throw new StoreError(`The S3 server ignored the range ${rangeHeader(range)} for ${key} (it sent ${res.ContentRange ?? 'everything'})`);
      }
      const info: ObjectInfo = {
        key,
        size: served?.size ?? res.ContentLength ?? 0,
        etag: res.ETag ?? '',
        sha256: res.Metadata?.sha256,
        lastModified: res.LastModified ?? new Date(0),
        contentType: res.ContentType,
      };
      const body = res.Body as Readable;
      return served ? { body, info, range: { start: served.start, end: served.end } } : { body, info };
    } catch (err) {
      if (statusOf(err) === 416) {
        throw new RangeNotSatisfiableError(key, (await this.head(key))?.size ?? 0);
      }
      throw this.translate(err, key);
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return {
        key,
        size: res.ContentLength ?? 0,
        etag: res.ETag ?? '',
        sha256: res.Metadata?.sha256,
        lastModified: res.LastModified ?? new Date(0),
        contentType: res.ContentType,
      };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw this.translate(err, key);
    }
  }

  /** Listings carry no metadata in S3, so sha256 is absent here; head() has it. */
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidPrefix(prefix);
    const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: this.prefix + prefix });
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        yield {
          key: object.Key!.slice(this.prefix.length),
          size: object.Size ?? 0,
          etag: object.ETag ?? '',
          lastModified: object.LastModified ?? new Date(0),
        };
      }
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
    } catch (err) {
      throw this.translate(err, key);
    }
  }

  async presignedUrl(key: string, expiresInSeconds: number): Promise<string> {
    assertValidKey(key);
    return getSignedUrl(this.presignClient, new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }), {
      expiresIn: expiresInSeconds,
    });
  }

  async close(): Promise<void> {
    this.client.destroy();
    if (this.presignClient !== this.client) this.presignClient.destroy();
  }

  private async checkPrecondition(key: string, options: PutOptions): Promise<void> {
    if (!options.ifNoneMatch && options.ifMatch === undefined) return;
    const current = await this.head(key);
    if (options.ifNoneMatch ? current !== null : current?.etag !== options.ifMatch) throw preconditionFailed(key, options);
  }

  private async attachSha256(key: string, etag: string | undefined, sha256: string, contentType: string): Promise<string | undefined> {
    const objectKey = this.prefix + key;
    try {
      const res = await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          CopySource: `${this.bucket}/${objectKey}`, // keys are [A-Za-z0-9._/-]: nothing to encode
          CopySourceIfMatch: etag || undefined,
          MetadataDirective: 'REPLACE',
          Metadata: { sha256 },
          ContentType: contentType,
        }),
      );
      return res.CopyObjectResult?.ETag;
    } catch (err) {
      throw this.translate(err, key);
    }
  }

  private translate(err: unknown, key: string, options: PutOptions = {}): unknown {
    if (!(err instanceof S3ServiceException)) return err; // ours (IntegrityError), or the source stream's
    const status = statusOf(err);
    const conditional = options.ifNoneMatch !== undefined || options.ifMatch !== undefined;
    // 409 ConditionalRequestConflict: a concurrent conditional write won; 404: If-Match on an absent key.
    if (conditional && (status === 412 || status === 409 || status === 404)) return preconditionFailed(key, options);
    if (status === 404) return new NotFoundError(key);
    return new StoreError(`S3 ${err.name} for ${key} in bucket ${this.bucket}: ${err.message}`, { cause: err });
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** `bytes 2-5/10` -> { start: 2, end: 5, size: 10 }. */
function parseContentRange(header: string | undefined): { start: number; end: number; size: number } | undefined {
  const match = header ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header) : null;
  return match ? { start: Number(match[1]), end: Number(match[2]), size: Number(match[3]) } : undefined;
}
