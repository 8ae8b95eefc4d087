import { Router } from 'express';
import type { FarmContext } from '../../context';
import { OnnxModelError } from '../../core/onnx/errors';
import { readModelInfo } from '../../core/onnx/read-model';
import { LabelConflictError, ModelCursorError, ModelRefError, type ModelRecord } from '../../state/model-registry';
import { deleteModel } from '../delete-model';
import { PreconditionFailedError } from '../../storage/errors';
import { modelKey } from '../../storage/layout';
import { requireRole } from '../auth';
import { ApiError, badRequest, conflict, fromZod, notFound } from '../errors';
import { ListModelsQuerySchema, ModelUploadQuerySchema } from '../schemas';
import { sendStored } from '../send-stored';
import type { Limits } from '../limits';
import { diskFull, receiveUpload, uploadGuards } from '../upload';

/** `onDeleted`: called after a model is deleted (the API drops its cached resolve answers). */
export function modelRoutes(ctx: FarmContext, limits: Limits, onDeleted?: () => void): Router {
  const router = Router();

  router.post('/v1/models', requireRole('builder'), ...uploadGuards(limits, ctx.config.limits.uploadIdleTimeoutMs), async (req, res) => {
    const upload = await receiveUpload(req, ctx.config.tmpDir, ctx.config.maxModelBytes);
    try {
      const labels = ModelUploadQuerySchema.safeParse(upload.fields);
      if (!labels.success) throw fromZod(labels.error, 'query');
      const info = await readModelInfo(upload.path, { sha256: upload.sha256 }).catch((err) => {
        if (err instanceof OnnxModelError) throw new ApiError(422, 'invalid_model', err.message, { reason: err.code });
        throw err;
      });
      const label = labels.data.name ? { name: labels.data.name, version: labels.data.version } : undefined;
      if (label) await ctx.models.checkLabel(info.sha256, label.name, label.version).catch(mapRefError);
      const existed = (await ctx.store.head(modelKey(info.sha256))) !== null;
      let stored = false;
      if (!existed) {
        await limits.checkStoredBytes(req.caller!, info.size);
        stored = await ctx.store
          // Adopted: the upload was hashed as it arrived, so the store renames it into place (docs/performance.md).
          .adopt(modelKey(info.sha256), upload.path, { sha256: info.sha256, size: info.size, ifNoneMatch: '*' })
          .then(
            () => true,
            (err) => {
              if (!(err instanceof PreconditionFailedError)) throw diskFull(err, 'the model to the store'); // else stored meanwhile by a concurrent upload
              return false;
            },
          );
        if (stored) await limits.recordStored(req.caller, info.size);
      }
      // Created is Redis's word (HSETNX): one of any number of concurrent uploads of the same bytes.
      const { record, created } = await ctx.models.register(info, label, stored ? req.caller?.tokenId : undefined).catch(mapRefError);
      res.status(created ? 201 : 200).json({ ...record, created });
    } finally {
      await upload.discard();
    }
  });

  router.get('/v1/models', requireRole('reader'), async (req, res) => {
    const query = ListModelsQuerySchema.safeParse(req.query);
    if (!query.success) throw fromZod(query.error, 'query');
    res.json(
      await ctx.models.page(query.data).catch((err) => {
        if (err instanceof ModelCursorError) throw badRequest(err.message);
        throw err;
      }),
    );
  });

  router.get('/v1/models/:ref', requireRole('reader'), async (req, res) => {
    const record = await ctx.models.resolve(String(req.params.ref)).catch(mapRefError);
    const artifacts = await ctx.artifacts.forModel(record.sha256);
    res.json({ ...record, artifacts });
  });

  router.delete('/v1/models/:ref', requireRole('builder'), async (req, res) => {
    const ref = String(req.params.ref);
    const record = await ctx.models.resolve(ref).catch((err) => {
      // By sha256, a model already gone (or half deleted by a crash) is deleted again: nothing, or the rest.
      if (err instanceof ModelRefError && /^[0-9a-f]{64}$/.test(ref) && err.message.startsWith('No model')) return { sha256: ref, labels: [] } as unknown as ModelRecord;
      return mapRefError(err);
    });
    const deleted = await deleteModel(ctx, record, req.caller!);
    onDeleted?.();
    res.json({ deleted });
  });

  router.get('/v1/models/:ref/file', requireRole('reader'), async (req, res) => {
    const record = await ctx.models.resolve(String(req.params.ref)).catch(mapRefError);
    await sendStored(req, res, ctx.store, modelKey(record.sha256), {
      sha256: record.sha256,
      filename: `${record.sha256}.onnx`,
      presignSeconds: ctx.config.presignSeconds,
    });
  });

  return router;
}

export function mapRefError(err: unknown): never {
  if (err instanceof ModelRefError) throw err.message.startsWith('No model') ? notFound(err.message) : new ApiError(400, 'bad_request', err.message);
  if (err instanceof LabelConflictError) throw conflict(err.message);
  throw err;
}
