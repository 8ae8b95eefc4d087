/**
 * Verified downloads: a file is streamed into a temp file next to its destination while it is
 * hashed and counted, and renamed into place only when its sha256 and size are the ones the API
 * announced (and an optional check of the content passes). Anything else deletes the temp file
 * and fails loudly, so a directory never holds a file that was not verified.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { IntegrityError } from '../storage/errors';
import { VerifyingHasher } from '../storage/verifying-hasher';
import type { KilnClient } from './client';

export class DownloadVerificationError extends Error {
  override name = 'DownloadVerificationError';
}

export interface DownloadRequest {
  /** API path or absolute URL; redirects (e.g. to a presigned URL) are followed. */
  url: string;
  /** Where the verified file ends up. */
  dest: string;
  /** The sha256 the API announced (resolve answer, manifest); without it, the X-Kiln-Sha256 header must give one. */
  sha256?: string;
  size?: number;
  /** Runs on the verified temp file before it is renamed into place; throwing refuses the file. */
  check?: (tempFile: string) => Promise<void>;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  size: number;
  /** False when `dest` already held exactly this content, so nothing was downloaded. */
  downloaded: boolean;
}

export async function downloadVerified(client: KilnClient, request: DownloadRequest): Promise<DownloadResult> {
  const { dest, size } = request;
  const name = path.basename(dest);
  if (request.sha256 && size !== undefined && (await holds(dest, request.sha256, size))) {
    if (request.check) await request.check(dest);
    return { path: dest, sha256: request.sha256, size, downloaded: false };
  }
  const temp = path.join(path.dirname(dest), `.${name}.${randomBytes(6).toString('hex')}.part`);
  try {
    const res = await client.stream('GET', request.url);
    // The API also says which sha256 it serves; a disagreement with what the caller was told is a
    // bug or a swapped file, and the content is not worth downloading.
    const header = res.headers['x-kiln-sha256'];
    const announced = typeof header === 'string' ? header.toLowerCase() : undefined;
    const sha256 = request.sha256?.toLowerCase() ?? announced;
    if (!sha256 || (announced && announced !== sha256)) {
      res.destroy();
      throw new DownloadVerificationError(
        sha256 ? `Expected sha256 ${sha256} for ${name} but the server announced ${announced}` : `No sha256 to verify ${name} against: neither the API's answer nor the download gave one`,
      );
    }
    const hasher = new VerifyingHasher(name, { sha256, size });
    await pipeline(res, hasher, createWriteStream(temp, { flags: 'wx' }));
    if (request.check) await request.check(temp);
    await rename(temp, dest);
    return { path: dest, sha256, size: hasher.size, downloaded: true };
  } catch (err) {
    await rm(temp, { force: true });
    if (err instanceof IntegrityError) {
      throw new DownloadVerificationError(`${err.message}; the download was deleted`);
    }
    throw err;
  }
}

/** Whether `file` already exists with this size and sha256 (hashed only when the size matches). */
async function holds(file: string, sha256: string, size: number): Promise<boolean> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile() || info.size !== size) return false;
  const hasher = new VerifyingHasher(file);
  await pipeline(createReadStream(file), hasher, async (source: AsyncIterable<Buffer>) => {
    for await (const _ of source) {
      // drained: only the hash matters
    }
  });
  return hasher.sha256 === sha256.toLowerCase();
}
