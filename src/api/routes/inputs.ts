/**
 * Validation input tensors too large to ride inline in a build request (KILN_MAX_INLINE_INPUTS_BYTES)
 * are uploaded like models: `POST /v1/inputs` streams a JSON file `{ "<input>": { dims, data } }`
 * in (raw body or multipart `file`), hashed and size-limited on the way, checks it, and stores it
 * once by its sha256 (`inputs/<sha256>.json`). A build names it with
 * `options.validation.inputsRef: <sha256>`, so the tensors are in the build key by their hash and
 * the queued job stays small; the worker downloads them before validating.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Router } from 'express';
import type { FarmContext } from '../../context';
import { InputTensorsSchema } from '../../core/options';
import { PreconditionFailedError } from '../../storage/errors';
import { inputsKey } from '../../storage/layout';
import { requireRole } from '../auth';
import { ApiError, fromZod } from '../errors';
import type { Limits } from '../limits';
import { diskFull, receiveUpload, uploadGuards } from '../upload';

export function inputRoutes(ctx: FarmContext, limits: Limits): Router {
  const router = Router();

  router.post('/v1/inputs', requireRole('builder'), ...uploadGuards(limits, ctx.config.limits.uploadIdleTimeoutMs), async (req, res) => {
    const upload = await receiveUpload(req, ctx.config.tmpDir, ctx.config.maxModelBytes);
    try {
      let json: unknown;
      try {
        json = JSON.parse(await readFile(upload.path, 'utf8'));
      } catch (err) {
        throw new ApiError(422, 'invalid_inputs', `Expected a JSON object of input tensors ({ "<input>": { "dims": [...], "data": [...] } }) but received text that is not JSON: ${(err as Error).message}`);
      }
      const parsed = InputTensorsSchema.safeParse(json);
      if (!parsed.success) throw fromZod(parsed.error, 'inputs');
      for (const [name, tensor] of Object.entries(parsed.data)) {
        const elements = tensor.dims.reduce((n, d) => n * d, 1);
        if (elements !== tensor.data.length) {
          throw new ApiError(422, 'invalid_inputs', `Expected ${elements} values for input "${name}" (dims [${tensor.dims.join(', ')}]) but received ${tensor.data.length}`);
        }
      }
      const key = inputsKey(upload.sha256);
      const existed = (await ctx.store.head(key)) !== null;
      if (!existed) {
        await limits.checkStoredBytes(req.caller!, upload.size);
        const stored = await ctx.store
          .put(key, createReadStream(upload.path), { sha256: upload.sha256, size: upload.size, ifNoneMatch: '*', contentType: 'application/json' })
          .then(
            () => true,
            (err) => {
              if (!(err instanceof PreconditionFailedError)) throw diskFull(err, 'the inputs to the store');
              return false; // stored meanwhile by a concurrent upload of the same bytes
            },
          );
        if (stored) await limits.recordStored(req.caller, upload.size);
      }
      const inputs = Object.fromEntries(Object.entries(parsed.data).map(([name, t]) => [name, { dims: t.dims }]));
      res.status(existed ? 200 : 201).json({ sha256: upload.sha256, size: upload.size, inputs, created: !existed });
    } finally {
      await upload.discard();
    }
  });

  return router;
}
