/** Administration: `POST /v1/admin/gc` runs the garbage collector now and answers its report. */
import { Router } from 'express';
import { z } from 'zod';
import { collectGarbage, GcRunningError } from '../../cleanup/collect-garbage';
import type { FarmContext } from '../../context';
import { requireRole } from '../auth';
import { jsonBody } from '../body-limits';
import { conflict, fromZod } from '../errors';

const GcRequestSchema = z
  .object({
    /** Overrides KILN_GC_GRACE_SECONDS for this run (0: every unreferenced file, e.g. on a farm with no build running). */
    graceSeconds: z.number().int().nonnegative().optional(),
  })
  .strict();

export function adminRoutes(ctx: FarmContext): Router {
  const router = Router();
  router.post('/v1/admin/gc', requireRole('admin'), jsonBody(4 * 1024, 'the admin request limit'), async (req, res) => {
    const parsed = GcRequestSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw fromZod(parsed.error, 'body');
    const { graceSeconds } = parsed.data;
    try {
      res.json(await collectGarbage(ctx, graceSeconds === undefined ? {} : { graceMs: graceSeconds * 1000 }));
    } catch (err) {
      if (err instanceof GcRunningError) throw conflict(err.message);
      throw err;
    }
  });
  return router;
}
