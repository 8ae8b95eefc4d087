/**
 * INT8 calibration caches, uploaded like models: `POST /v1/calibration-caches` streams one in
 * (raw body or multipart `file`), hashed and size-limited on the way, checks that it is a TensorRT
 * calibration cache, and stores it once by its sha256; `GET /v1/calibration-caches` lists them;
 * `GET /v1/calibration-caches/:sha` downloads one. A build uses one through
 * `options.tensorrt.calibration: <sha256>` (with int8 or best in `precision`).
 */
import { Router } from 'express';
import type { FarmContext } from '../../context';
import { SHA256_HEX } from '../../core/hash';
import type { ObjectInfo } from '../../storage/artifact-store';
import { PreconditionFailedError } from '../../storage/errors';
import { calibrationKey } from '../../storage/layout';
import { CALIBRATION_MAX_BYTES, CalibrationCacheError, checkCalibrationCache } from '../../core/tensorrt/calibration-cache';
import { listCalibrationCaches } from '../../storage/calibration-caches';
import { requireRole } from '../auth';
import { ApiError, badRequest, notFound } from '../errors';
import { sendStored } from '../send-stored';
import type { Limits } from '../limits';
import { receiveUpload, uploadGuards, type ReceivedFile } from '../upload';

export function calibrationRoutes(ctx: FarmContext, limits: Limits): Router {
  const router = Router();
  // The model limit still applies when an operator set it lower.
  const limit = Math.min(CALIBRATION_MAX_BYTES, ctx.config.maxModelBytes);

  router.post('/v1/calibration-caches', requireRole('builder'), ...uploadGuards(limits, ctx.config.limits.uploadIdleTimeoutMs), async (req, res) => {
    const upload = await receiveCalibration(req, ctx.config.tmpDir, limit);
    try {
      const info = await checkCalibrationCache(upload.path).catch((err) => {
        if (err instanceof CalibrationCacheError) throw new ApiError(422, 'invalid_calibration_cache', err.message);
        throw err;
      });
      const key = calibrationKey(upload.sha256);
      let stored: ObjectInfo | null = await ctx.store.head(key);
      const created = stored === null;
      if (!stored) {
        await limits.checkStoredBytes(req.caller!, upload.size);
        stored = await ctx.store
          .adopt(key, upload.path, { sha256: upload.sha256, size: upload.size, ifNoneMatch: '*', contentType: 'text/plain' })
          .catch(async (err) => {
            if (!(err instanceof PreconditionFailedError)) throw err;
            return ctx.store.head(key); // stored meanwhile by a concurrent upload of the same bytes
          });
        await limits.recordStored(req.caller, upload.size);
      }
      res.status(created ? 201 : 200).json({
        sha256: upload.sha256,
        sizeBytes: upload.size,
        uploadedAt: (stored?.lastModified ?? new Date()).toISOString(),
        header: info.header,
        trtVersion: info.trtVersion,
        algorithm: info.algorithm,
        tensors: info.tensors,
        created,
      });
    } finally {
      await upload.discard();
    }
  });

  router.get('/v1/calibration-caches', requireRole('reader'), async (_req, res) => {
    res.json({ calibrationCaches: await listCalibrationCaches(ctx.store) });
  });

  router.get('/v1/calibration-caches/:sha', requireRole('reader'), async (req, res) => {
    const sha = String(req.params.sha);
    if (!SHA256_HEX.test(sha)) throw badRequest(`Expected the sha256 of a calibration cache (64 lower-case hex digits) but received ${JSON.stringify(sha)}`);
    const key = calibrationKey(sha);
    if (!(await ctx.store.head(key))) throw notFound(`No calibration cache ${sha}; upload one with POST /v1/calibration-caches (kiln calibration push FILE)`);
    await sendStored(req, res, ctx.store, key, { sha256: sha, filename: `${sha}.cache`, contentType: 'text/plain; charset=utf-8', presignSeconds: ctx.config.presignSeconds });
  });

  return router;
}

/** receiveUpload, with its model-worded refusals said of calibration caches. */
async function receiveCalibration(req: Parameters<typeof receiveUpload>[0], tmpDir: string, limit: number): Promise<ReceivedFile> {
  try {
    return await receiveUpload(req, tmpDir, limit);
  } catch (err) {
    if (err instanceof ApiError && err.status === 413) {
      throw new ApiError(413, 'too_large', `Calibration cache upload is over the limit of ${limit} bytes (TensorRT calibration caches are small text files; the limit is 64 MiB, or KILN_MAX_MODEL_BYTES when lower)`);
    }
    if (err instanceof ApiError && err.message.includes('the ONNX model')) {
      throw new ApiError(err.status, err.code, err.message.replace('the ONNX model', 'the calibration cache'), err.details);
    }
    throw err;
  }
}
