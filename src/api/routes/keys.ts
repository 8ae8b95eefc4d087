import { Router } from 'express';
import type { FarmContext } from '../../context';
import type { KeysDocument } from '../../core/provenance/signing-keys';
import { listSigningKeys } from '../../storage/signing-keys';
import { requireRole } from '../auth';

/** `GET /v1/keys`: every public key that signed provenance on this farm, rotated-out ones included (docs/provenance.md). */
export function keyRoutes(ctx: FarmContext): Router {
  const router = Router();
  router.get('/v1/keys', requireRole('reader'), async (_req, res) => {
    const body: KeysDocument = { keys: await listSigningKeys(ctx.store) };
    res.json(body);
  });
  return router;
}
