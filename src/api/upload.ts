/**
 * Receives an upload as a stream, raw (`application/octet-stream`) or multipart (`file` field),
 * into a temp file while hashing and counting it. Nothing is buffered whole, and an upload over
 * the limit is cut off as soon as it passes it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request, RequestHandler } from 'express';
import { allowLongUpload } from './body-limits';
import { ApiError, badRequest } from './errors';
import type { Limits } from './limits';

export interface ReceivedFile {
  path: string;
  sha256: string;
  size: number;
  /** Multipart text fields (and query parameters for raw uploads). */
  fields: Record<string, string>;
  discard(): Promise<void>;
}

/**
 * A full disk, said so (507) instead of "Internal error": the upload was refused whole and nothing
 * was stored, so the client can push again once there is space. Other errors pass unchanged.
 */
export function diskFull(err: unknown, where: string): unknown {
  if ((err as NodeJS.ErrnoException | null)?.code !== 'ENOSPC') return err;
  return new ApiError(
    507,
    'insufficient_storage',
    `Kiln's disk is full: no space left to write ${where} (ENOSPC). Nothing was stored; free space on the disk of KILN_HOME (temp files) and KILN_DATA_DIR (the store), then push again`,
  );
}

const tooLarge = (limit: number) =>
  new ApiError(413, 'too_large', `Upload is over the limit of ${limit} bytes (KILN_MAX_MODEL_BYTES)`);

/**
 * Put after requireRole on upload routes: a token already at its stored-bytes quota (or a declared
 * size past the whole quota) is refused before a byte is read; the exact check comes once the file
 * is known to be new (uploading a file already stored costs nothing). The upload may then take as
 * long as it keeps sending.
 */
export function uploadGuards(limits: Limits, idleMs: number): RequestHandler[] {
  const quota: RequestHandler = async (req, _res, next) => {
    try {
      const declared = Number(req.headers['content-length']);
      if (req.caller) await limits.checkStoredBytes(req.caller, Number.isFinite(declared) ? declared : 0, { before: true });
      next();
    } catch (err) {
      next(err);
    }
  };
  return [quota, allowLongUpload(idleMs)];
}

export async function receiveUpload(req: Request, tmpDir: string, limit: number): Promise<ReceivedFile> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit && !isMultipart(req)) throw tooLarge(limit);
  await mkdir(tmpDir, { recursive: true });
  const file = path.join(tmpDir, `upload-${randomUUID()}`);
  const discard = () => rm(file, { force: true });
  try {
    if (isMultipart(req)) return { ...(await receiveMultipart(req, file, limit)), path: file, discard };
    const { sha256, size } = await writeHashed(req, file, limit);
    const fields = Object.fromEntries(Object.entries(req.query).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    return { path: file, sha256, size, fields, discard };
  } catch (err) {
    await discard();
    throw diskFull(err, 'the upload to a temp file');
  }
}

function isMultipart(req: Request): boolean {
  return (req.headers['content-type'] ?? '').startsWith('multipart/form-data');
}

/**
 * How much of an upload may wait in memory for the disk. With the default (16 KiB) every 64 KiB
 * socket chunk fills the file stream's buffer, so the socket is paused until a thread-pool write
 * returns and resumed after it: one round trip per chunk, which made uploads latency-bound (the
 * API idle most of the time) and several times slower on a busy machine. At 1 MiB the chunks that
 * arrive during a write go down together in one writev, and the socket keeps flowing. Two such
 * buffers (the meter's and the file's) per upload are nothing against the API's memory target.
 */
const UPLOAD_BUFFER_BYTES = 1024 * 1024;

/**
 * An upload's bytes are durable only once fsynced (the store fsyncs the file before it commits
 * it), and fsyncing 256 MiB at the end costs a few hundred ms on top of the transfer. So the
 * pages are sent to the disk while the rest still arrives: a datasync each time this much more has
 * passed, one at a time, so the store's final fsync has only the tail left to write. The
 * datasyncs' errors are the upload's: an error seen here may not be reported again to the store's
 * fsync on another descriptor.
 */
const WRITE_BEHIND_BYTES = 16 * 1024 * 1024;

async function writeHashed(source: Readable, file: string, limit: number): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  // Creates the file; the stream writes through its own descriptor, this one only syncs (the page
  // cache is the file's, so a datasync on either writes the same pages).
  const handle = await open(file, 'w');
  let syncing: Promise<void> | null = null;
  let syncedUpTo = 0;
  let syncError: unknown = null;
  const meter = new Transform({
    highWaterMark: UPLOAD_BUFFER_BYTES,
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > limit) return done(tooLarge(limit));
      hash.update(chunk);
      if (syncError) return done(syncError as Error);
      if (!syncing && size - syncedUpTo >= WRITE_BEHIND_BYTES) {
        syncedUpTo = size;
        syncing = handle.datasync().then(
          () => void (syncing = null),
          (err: unknown) => void ((syncError = err), (syncing = null)),
        );
      }
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, meter, createWriteStream(file, { flags: 'r+', highWaterMark: UPLOAD_BUFFER_BYTES }));
  } finally {
    // The handle must outlive its datasync: closing it under one could hand its number to another file.
    await syncing;
    await handle.close();
  }
  if (syncError) throw syncError;
  return { sha256: hash.digest('hex'), size };
}

function receiveMultipart(req: Request, file: string, limit: number): Promise<{ sha256: string; size: number; fields: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    let written: Promise<{ sha256: string; size: number }> | null = null;
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fields: 20, fieldSize: 1024 } });
    } catch (err) {
      return reject(badRequest(`Malformed multipart upload: ${(err as Error).message}`));
    }
    parser.on('field', (name, value) => (fields[name] = value));
    parser.on('file', (name, stream) => {
      if (name !== 'file' || written) {
        stream.resume();
        return;
      }
      written = writeHashed(stream, file, limit);
      written.catch((err) => {
        req.unpipe(parser);
        req.resume();
        reject(err);
      });
    });
    parser.on('error', (err) => reject(badRequest(`Malformed multipart upload: ${(err as Error).message}`)));
    parser.on('close', () => {
      if (!written) return reject(badRequest('Multipart upload has no "file" field: send the ONNX model as the file field'));
      written.then((r) => resolve({ ...r, fields }), reject);
    });
    req.pipe(parser);
  });
}
