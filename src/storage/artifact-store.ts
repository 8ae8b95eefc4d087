/**
 * ArtifactStore: where models, artifact sets and timing caches live. S3 (or the filesystem default)
 * is the source of truth; Redis only indexes it. Every put is streamed and hashed on the way, and
 * verified against the sha256 and size the caller expects, so nothing corrupt becomes visible.
 */
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  key: string;
  size: number;
  /** Opaque version tag for put-if-match; changes whenever the content changes. */
  etag: string;
  /** Hex sha256 of the content, when known (always known for objects Kiln wrote). */
  sha256?: string;
  lastModified: Date;
  contentType?: string;
}

export interface PutOptions {
  /** Expected hex sha256; the put fails with IntegrityError and stores nothing if it differs. */
  sha256?: string;
  /** Expected size in bytes; likewise. */
  size?: number;
  contentType?: string;
  /** '*' = put only if absent; fails with PreconditionFailedError if the key exists. */
  ifNoneMatch?: '*';
  /** Put only if the current object's etag is this one (compare-and-swap). */
  ifMatch?: string;
  /**
   * Leave making the object durable to a later `sync([key, ...])`, so that a set of objects costs
   * one durability barrier instead of one per object (publishing an artifact set). (Default: false)
   */
  deferSync?: boolean;
}

/** An adopted file's sha256 and size, computed by the caller as it wrote the file. */
export interface AdoptOptions extends PutOptions {
  sha256: string;
  size: number;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive; omitted = to the end. */
  end?: number;
}

export interface GetResult {
  body: Readable;
  info: ObjectInfo;
  /** The range actually served, when a range was asked for. */
  range?: { start: number; end: number };
}

export interface ArtifactStore {
  /** `filesystem` or `s3`; shown in logs and health output. */
  readonly kind: string;
  put(key: string, body: Readable | Buffer | string, options?: PutOptions): Promise<ObjectInfo>;
  /**
   * Stores the file at `file`, which the caller hashed while writing it (an upload), in one pass:
   * the filesystem store renames it into place (no copy, no second hash); S3 streams it up once.
   * The file may be gone afterwards, whether or not the store succeeded; the caller removes what is left.
   */
  adopt(key: string, file: string, options: AdoptOptions): Promise<ObjectInfo>;
  /** Throws NotFoundError when absent, RangeNotSatisfiableError for a range past the end. */
  get(key: string, range?: ByteRange): Promise<GetResult>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Every object whose key starts with prefix, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Deleting an absent key is not an error. */
  delete(key: string): Promise<void>;
  /** A time-limited URL a client can GET directly; null where the backend has none. */
  presignedUrl(key: string, expiresInSeconds: number): Promise<string | null>;
  /** Makes objects put with `deferSync` durable; absent where every put is durable when it returns (S3). */
  sync?(keys: string[]): Promise<void>;
  /** Removes the backend's own temp files unchanged for `olderThanMs` (the filesystem store's `.tmp`); S3 has none. */
  sweepTemp?(olderThanMs: number): Promise<{ files: number; bytes: number }>;
  close?(): Promise<void>;
}
