/**
 * A pass-through stream that hashes (sha256) and counts what flows through it, and fails the
 * stream with IntegrityError when the content differs from what the caller expects. It fails in
 * `flush`, before the stream ends, so a consumer that only commits on a clean end (a temp file
 * renamed into place, an S3 upload completed) never commits bad content. Too many bytes fail at
 * once rather than at the end, so an oversized body is not read to its end.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { IntegrityError } from './errors';

export interface Expected {
  sha256?: string;
  size?: number;
}

export class VerifyingHasher extends Transform {
  private readonly hash: Hash = createHash('sha256');
  /**
   * Bytes seen so far; the final size once the stream has ended. (lib-storage's Upload reads a
   * body's `size` as its total length: give it a stream behind this one, not this one.)
   */
  size = 0;
  /** The same as `size` (an earlier name, still used). */
  get bytesSeen(): number {
    return this.size;
  }
  /** Hex sha256, set once the stream has ended. */
  sha256?: string;

  constructor(private readonly key: string, private readonly expected: Expected = {}) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    const { size } = this.expected;
    if (size !== undefined && this.size > size) {
      callback(new IntegrityError(`Expected ${size} bytes for ${this.key} but received more (${this.size} so far)`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.sha256 = this.hash.digest('hex');
    callback(integrityProblem(this.key, this.expected, this.sha256, this.size));
  }
}

/** The IntegrityError for content that is not what was expected, or null when it is. */
export function integrityProblem(key: string, expected: Expected, sha256: string, size: number): IntegrityError | null {
  if (expected.size !== undefined && size !== expected.size) {
    return new IntegrityError(`Expected ${expected.size} bytes for ${key} but received ${size}`);
  }
  if (expected.sha256 !== undefined && sha256 !== expected.sha256.toLowerCase()) {
    return new IntegrityError(`Expected sha256 ${expected.sha256} for ${key} but received ${sha256}`);
  }
  return null;
}

export function toReadable(body: Readable | Buffer | string): Readable {
  return typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body;
}
