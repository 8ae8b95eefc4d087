import { Router, type Request, type Response } from 'express';
import type { FarmContext } from '../../context';
import { MANIFEST_FILE } from '../../core/manifest';
import { artifactKey } from '../../storage/layout';
import { readManifest } from '../../storage/publish';
import { requireRole } from '../auth';
import { badRequest, notFound } from '../errors';
import { sendStored } from '../send-stored';

export function artifactRoutes(ctx: FarmContext): Router {
  const router = Router();
  router.get('/v1/artifacts/:buildKey/:file', requireRole('reader'), async (req, res) => {
    await sendArtifact(ctx, req, res, String(req.params.buildKey), String(req.params.file));
  });
  return router;
}

/** One file of a published artifact set; shared by the API and the dashboard's download route. */
export async function sendArtifact(ctx: FarmContext, req: Request, res: Response, buildKey: string, file: string): Promise<void> {
  if (!/^[0-9a-f]{64}$/.test(buildKey)) throw badRequest(`Expected a build key (64 hex digits) but received "${buildKey}"`);
  // Only files a manifest lists are served: an unpublished (or half-uploaded) set is invisible.
  const manifest = await readManifest(ctx.store, buildKey);
  if (!manifest) throw notFound(`No published artifact set ${buildKey}`);
  if (file === MANIFEST_FILE) {
    res.json(manifest);
    return;
  }
  const entry = manifest.files.find((f) => f.name === file);
  if (!entry) throw notFound(`Artifact set ${buildKey} has no file ${file}; it has ${manifest.files.map((f) => f.name).join(', ')}`);
  await sendStored(req, res, ctx.store, artifactKey(buildKey, entry), {
    sha256: entry.sha256,
    filename: file,
    presignSeconds: ctx.config.presignSeconds,
  });
}
