/**
 * API tokens managed at run time by admins (POST/GET/DELETE /v1/tokens, `kiln tokens`), next to
 * the static KILN_TOKENS. Redis keeps only each token's sha256 (tokens are 32 random bytes, so a
 * plain digest is as good as a slow hash), with its id, name, role, creation and expiry; the
 * token itself is shown once, when it is created. Revoking deletes the entry.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Role } from '../config';
import type { RedisKeys } from './redis';

export interface ApiTokenInfo {
  /** Short public id, for listing and revoking. */
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  /** ISO 8601; absent: never expires. */
  expiresAt?: string;
  /** Where the token comes from: created through the API, or KILN_TOKENS (cannot be revoked at run time). */
  source: 'api' | 'config';
}

export const tokenDigest = (token: string) => createHash('sha256').update(token).digest('hex');
/** The public id of a token: the start of its digest, so config tokens get stable ids too. */
export const tokenIdOf = (digest: string) => digest.slice(0, 12);

export class ApiTokens {
  private readonly byDigest: string;
  private readonly ids: string;

  constructor(private readonly redis: Redis, keys: RedisKeys) {
    this.byDigest = keys.tokens;
    this.ids = keys.tokenIds;
  }

  async create(input: { name: string; role: Role; expiresAt?: Date }): Promise<{ token: string; info: ApiTokenInfo }> {
    const token = `kiln_${randomBytes(32).toString('base64url')}`;
    const digest = tokenDigest(token);
    const info: ApiTokenInfo = {
      id: tokenIdOf(digest),
      name: input.name,
      role: input.role,
      createdAt: new Date().toISOString(),
      ...(input.expiresAt ? { expiresAt: input.expiresAt.toISOString() } : {}),
      source: 'api',
    };
    await this.redis.multi().hset(this.byDigest, digest, JSON.stringify(info)).hset(this.ids, info.id, digest).exec();
    return { token, info };
  }

  /** The token's entry by its digest, or null (unknown or revoked; expiry is the caller's to judge). */
  async lookup(digest: string): Promise<ApiTokenInfo | null> {
    const json = await this.redis.hget(this.byDigest, digest);
    return json ? (JSON.parse(json) as ApiTokenInfo) : null;
  }

  async list(): Promise<ApiTokenInfo[]> {
    const all = await this.redis.hvals(this.byDigest);
    return all.map((json) => JSON.parse(json) as ApiTokenInfo).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Returns the revoked token's digest, or null when no token has that id. */
  async revoke(id: string): Promise<string | null> {
    const digest = await this.redis.hget(this.ids, id);
    if (!digest) return null;
    await this.redis.multi().hdel(this.byDigest, digest).hdel(this.ids, id).exec();
    return digest;
  }
}
