/**
 * API tokens managed by admins: `POST /v1/tokens` creates one (the token is in this answer only),
 * `GET /v1/tokens` lists them with the KILN_TOKENS ones (never a token, only public ids),
 * `DELETE /v1/tokens/:id` revokes one. CLI: `kiln tokens create|list|revoke`.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { FarmContext } from '../../context';
import { ROLES } from '../../config';
import { ApiTokens, tokenDigest, tokenIdOf, type ApiTokenInfo } from '../../state/api-tokens';
import { requireRole, type TokenTable } from '../auth';
import { jsonBody } from '../body-limits';
import { conflict, fromZod, notFound } from '../errors';

export const CreateTokenSchema = z
  .object({
    name: z.string().min(1).max(100).describe('What the token is for, e.g. "ci" or a person'),
    role: z.enum(ROLES as [string, ...string[]]).describe('reader, builder or admin'),
    expiresInSeconds: z.number().int().positive().max(10 * 365 * 24 * 3600).optional().describe('Lifetime in seconds (Default: never expires)'),
  })
  .strict();

export function tokenRoutes(ctx: FarmContext, table: TokenTable): Router {
  const router = Router();
  const tokens = new ApiTokens(ctx.redis, ctx.keys);
  const configured: ApiTokenInfo[] = ctx.config.tokens.map((t, i) => ({
    id: tokenIdOf(tokenDigest(t.token)),
    name: `KILN_TOKENS #${i + 1}`,
    role: t.role,
    createdAt: new Date(0).toISOString(),
    ...(t.expiresAt ? { expiresAt: t.expiresAt.toISOString() } : {}),
    source: 'config',
  }));

  router.post('/v1/tokens', requireRole('admin'), jsonBody(16 * 1024, 'the token request limit'), async (req, res) => {
    const body = CreateTokenSchema.safeParse(req.body ?? {});
    if (!body.success) throw fromZod(body.error, 'body');
    const { name, role, expiresInSeconds } = body.data;
    const expiresAt = expiresInSeconds ? new Date(Date.now() + expiresInSeconds * 1000) : undefined;
    const created = await tokens.create({ name, role: role as ApiTokenInfo['role'], expiresAt });
    res.status(201).json({ ...created.info, token: created.token });
  });

  router.get('/v1/tokens', requireRole('admin'), async (_req, res) => {
    res.json({ tokens: [...configured, ...(await tokens.list())] });
  });

  router.delete('/v1/tokens/:id', requireRole('admin'), async (req, res) => {
    const id = String(req.params.id);
    if (configured.some((t) => t.id === id)) throw conflict(`Token ${id} is configured in KILN_TOKENS; remove it there and restart the API to revoke it`);
    const digest = await tokens.revoke(id);
    if (!digest) throw notFound(`No token with id ${id}; GET /v1/tokens (kiln tokens list) lists them`);
    table.forget(digest);
    res.json({ id, revoked: true });
  });

  return router;
}
