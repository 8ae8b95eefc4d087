/**
 * `kiln export triton`: the API's tar of a Triton model repository, written into a folder. The
 * tar's first entry lists every file with its sha256 and size (core/triton/repository.ts); each
 * file is hashed as it is written to a temp file and renamed into place only when it matches, so
 * the folder never holds a file that was not verified. A tar cut short (the API found a stored
 * file changed) fails here, because a listed file never arrived.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract } from 'tar-stream';
import { EXPORT_LISTING, type ExportListing } from '../core/triton/repository';
import { VerifyingHasher } from '../storage/verifying-hasher';
import type { KilnClient, QueryValue } from './client';

export class ExportVerificationError extends Error {
  override name = 'ExportVerificationError';
}

export interface ExportedFile {
  path: string;
  sha256: string;
  size: number;
}

export interface TritonExportResult {
  listing: ExportListing;
  files: ExportedFile[];
}

/** Downloads the repository of `model` into `dir` (created), verifying every file. */
export async function exportTriton(client: KilnClient, model: string, dir: string, query: Record<string, QueryValue>): Promise<TritonExportResult> {
  const res = await client.stream('GET', `/v1/models/${encodeURIComponent(model)}/export/triton`, { query });
  await mkdir(dir, { recursive: true });
  return extractRepository(res, dir);
}

/** Writes the tar's files under `dir`: only the ones its listing names, each verified. */
export async function extractRepository(tar: Readable, dir: string): Promise<TritonExportResult> {
  const extract = tarExtract();
  tar.on('error', (err) => extract.destroy(err));
  tar.pipe(extract);
  let listing: ExportListing | undefined;
  const expected = new Map<string, { sha256: string; size: number }>();
  const written: ExportedFile[] = [];
  try {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/\/$/, '');
      const target = safeJoin(dir, name);
      if (entry.header.type === 'directory') {
        await mkdir(target, { recursive: true });
        entry.resume();
        continue;
      }
      if (entry.header.type !== 'file') throw new ExportVerificationError(`Expected files and folders in the export but received a ${entry.header.type} (${name})`);
      if (!listing) {
        if (name !== EXPORT_LISTING) throw new ExportVerificationError(`Expected ${EXPORT_LISTING} first in the export but received ${name}`);
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        const bytes = Buffer.concat(chunks);
        listing = JSON.parse(bytes.toString('utf8')) as ExportListing;
        for (const f of listing.files) expected.set(f.path, { sha256: f.sha256, size: f.size });
        await writeFile(target, bytes);
        continue;
      }
      const want = expected.get(name);
      if (!want) throw new ExportVerificationError(`${name} is in the export but not in its ${EXPORT_LISTING}`);
      expected.delete(name);
      await mkdir(path.dirname(target), { recursive: true });
      const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.part`);
      try {
        await pipeline(entry as unknown as Readable, new VerifyingHasher(name, want), createWriteStream(temp));
        await rename(temp, target);
      } finally {
        await rm(temp, { force: true });
      }
      written.push({ path: name, ...want });
    }
  } catch (err) {
    tar.destroy();
    if (err instanceof ExportVerificationError) throw err;
    // The API ends the tar unfinished when a stored file differs from its manifest (its log says which).
    const missing = [...expected.keys()];
    throw new ExportVerificationError(
      `The export was cut short (${(err as Error).message})${missing.length ? ` before ${missing.join(', ')} arrived` : ''}: a stored file differs from its manifest, or the connection broke; the files written are verified`,
    );
  }
  if (!listing) throw new ExportVerificationError(`The export was empty: no ${EXPORT_LISTING}`);
  if (expected.size > 0) {
    throw new ExportVerificationError(`The export ended before ${[...expected.keys()].join(', ')} arrived; the files written are verified, run the export again for the rest`);
  }
  return { listing, files: written };
}

/** `dir/name`, refusing a name that would land outside `dir`. */
function safeJoin(dir: string, name: string): string {
  const target = path.resolve(dir, name);
  if (path.isAbsolute(name) || name.split('/').includes('..') || !target.startsWith(path.resolve(dir) + path.sep)) {
    throw new ExportVerificationError(`Expected paths inside the export folder but received ${JSON.stringify(name)}`);
  }
  return target;
}
