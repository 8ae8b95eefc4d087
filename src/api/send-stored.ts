/**
 * Serves a stored object: a redirect to a presigned URL where the backend has one (S3), else a
 * stream with Range, ETag and the sha256 (filesystem). The sha256 goes out either way so clients
 * can verify what they got.
 */
import type { Request, Response } from 'express';
import type { ArtifactStore, ByteRange } from '../storage/artifact-store';
import { NotFoundError, RangeNotSatisfiableError } from '../storage/errors';
import { ApiError, notFound } from './errors';

export interface SendOptions {
  sha256?: string;
  filename: string;
  contentType?: string;
  presignSeconds: number;
}

export async function sendStored(req: Request, res: Response, store: ArtifactStore, key: string, options: SendOptions): Promise<void> {
  if (options.sha256) {
    res.setHeader('X-Kiln-Sha256', options.sha256);
    res.setHeader('Repr-Digest', `sha-256=:${Buffer.from(options.sha256, 'hex').toString('base64')}:`);
  }
  const url = await store.presignedUrl(key, options.presignSeconds);
  if (url) {
    res.redirect(302, url);
    return;
  }
  const head = await store.head(key);
  if (!head) throw notFound(`No file ${options.filename}`);
  const etag = `"${head.etag.replace(/"/g, '')}"`;
  res.setHeader('ETag', etag);
  res.setHeader('Accept-Ranges', 'bytes');
  if (req.headers['if-none-match'] === etag) {
    res.status(304).end();
    return;
  }
  const range = parseRange(req.headers.range, head.size);
  try {
    const result = await store.get(key, range ?? undefined);
    res.setHeader('Content-Type', options.contentType ?? 'application/octet-stream');
    res.setHeader('Content-Disposition', `attachment; filename="${options.filename}"`);
    if (result.range) {
      res.status(206);
      res.setHeader('Content-Range', `bytes ${result.range.start}-${result.range.end}/${head.size}`);
      res.setHeader('Content-Length', result.range.end - result.range.start + 1);
    } else {
      res.setHeader('Content-Length', head.size);
    }
    result.body.on('error', () => res.destroy());
    result.body.pipe(res);
  } catch (err) {
    if (err instanceof RangeNotSatisfiableError) {
      res.setHeader('Content-Range', `bytes */${head.size}`);
      throw new ApiError(416, 'range_not_satisfiable', `Range ${req.headers.range} is outside the file's ${head.size} bytes`);
    }
    if (err instanceof NotFoundError) throw notFound(`No file ${options.filename}`);
    throw err;
  }
}

/** One `bytes=` range (first-last, first-, or -suffix); anything else is served whole, as RFC 9110 allows. */
function parseRange(header: string | undefined, size: number): ByteRange | null {
  const m = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Math.min(Number(m[2]), size);
    return { start: size - suffix, end: size - 1 };
  }
  return { start: Number(m[1]), end: m[2] === '' ? undefined : Math.min(Number(m[2]), size - 1) };
}
