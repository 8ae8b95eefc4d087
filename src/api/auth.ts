/**
 * Bearer tokens with roles: reader (resolve, fetch), builder (+ upload, submit, cancel), admin
 * (+ workers, tokens, administration). Two sources: KILN_TOKENS (static, optionally expiring) and
 * tokens admins create at run time (src/state/api-tokens.ts; expiring, revocable). Static tokens
 * are compared as sha256 digests with timingSafeEqual against every one, so neither a token's
 * content nor its position leaks through timing; run-time tokens are looked up by digest.
 * Lookups are cached briefly, so a revoked token is refused within TOKEN_CACHE_MS everywhere
 * (at once on the API process that revoked it).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Role, TokenConfig } from '../config';
import { tokenIdOf, type ApiTokens } from '../state/api-tokens';
import { ApiError } from './errors';

const RANK: Record<Role, number> = { reader: 1, builder: 2, admin: 3 };
export const TOKEN_CACHE_MS = 5000;
const MAX_CACHED = 10_000;

/** Who is asking: the role, and the token's public id (rate limits and quotas are per token). */
export interface Caller {
  role: Role;
  tokenId: string;
}

interface Known {
  caller: Caller;
  expiresAt?: number;
}

const digest = (token: string) => createHash('sha256').update(token).digest();

export class TokenTable {
  private readonly entries: { digest: Buffer; role: Role; expiresAt?: number }[];
  private readonly cache = new Map<string, { known: Known | null; until: number }>();

  constructor(tokens: TokenConfig[], private readonly apiTokens?: ApiTokens) {
    this.entries = tokens.map((t) => ({ digest: digest(t.token), role: t.role, expiresAt: t.expiresAt?.getTime() }));
  }

  /** The caller a token stands for; null for an unknown or revoked one; 401 for an expired one. */
  async identify(token: string): Promise<Caller | null> {
    return this.identifyDigest(digest(token).toString('hex'));
  }

  /** identify(), from the token's sha256 (hex): what dashboard sessions keep instead of the token. */
  async identifyDigest(hex: string): Promise<Caller | null> {
    const known = this.fromConfig(Buffer.from(hex, 'hex'), hex) ?? (await this.fromRedis(hex));
    if (!known) return null;
    if (known.expiresAt !== undefined && known.expiresAt <= Date.now()) {
      throw new ApiError(401, 'token_expired', `The bearer token expired at ${new Date(known.expiresAt).toISOString()}; ask an admin for a new one (kiln tokens create)`);
    }
    return known.caller;
  }

  /** The role of a token's digest, or null (unknown, revoked or expired). */
  async roleOfDigest(hex: string): Promise<Role | null> {
    try {
      return (await this.identifyDigest(hex))?.role ?? null;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'token_expired') return null;
      throw err;
    }
  }

  /** Forget a cached lookup (the token was just revoked here). */
  forget(digestHex: string): void {
    this.cache.delete(digestHex);
  }

  private fromConfig(candidate: Buffer, hex: string): Known | null {
    let found: Known | null = null;
    for (const entry of this.entries) {
      if (candidate.length === entry.digest.length && timingSafeEqual(entry.digest, candidate) && (!found || RANK[entry.role] > RANK[found.caller.role])) {
        found = { caller: { role: entry.role, tokenId: tokenIdOf(hex) }, expiresAt: entry.expiresAt };
      }
    }
    return found;
  }

  private async fromRedis(hex: string): Promise<Known | null> {
    if (!this.apiTokens) return null;
    const cached = this.cache.get(hex);
    if (cached && cached.until > Date.now()) return cached.known;
    const info = await this.apiTokens.lookup(hex);
    const known = info ? { caller: { role: info.role, tokenId: info.id }, expiresAt: info.expiresAt ? Date.parse(info.expiresAt) : undefined } : null;
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(hex, { known, until: Date.now() + TOKEN_CACHE_MS });
    return known;
  }
}

declare module 'express-serve-static-core' {
  interface Request {
    role?: Role;
    caller?: Caller;
  }
}

/** The caller of an Authorization header: null without a bearer token; 401 for a token that is not valid. */
export async function callerFromHeader(table: TokenTable, header: string | undefined): Promise<Caller | null> {
  if (!header?.startsWith('Bearer ')) return null;
  const caller = await table.identify(header.slice(7).trim());
  if (!caller) throw new ApiError(401, 'unauthorized', 'The bearer token is not valid for this Kiln (unknown or revoked)');
  return caller;
}

/** 401 without a role, 403 with too low a one; says what is missing either way. */
export function checkRole(have: Role | null | undefined, needed: Role): void {
  if (!have) {
    throw new ApiError(401, 'unauthorized', `Authentication required: send "Authorization: Bearer <token>" with a ${needed} (or higher) token`);
  }
  if (RANK[have] < RANK[needed]) throw new ApiError(403, 'forbidden', `This needs the ${needed} role; your token has the ${have} role`);
}

export const WWW_AUTHENTICATE = 'Bearer realm="kiln"';

/** Reads the bearer token (if any) and sets req.caller and req.role; rejects only a token that is not valid. */
export function identify(table: TokenTable): RequestHandler {
  return async (req, _res, next) => {
    try {
      const caller = await callerFromHeader(table, req.headers.authorization);
      req.caller = caller ?? undefined;
      req.role = caller?.role;
      next();
    } catch (err) {
      next(err);
    }
  };
}

export function requireRole(role: Role): RequestHandler {
  return (req, res, next) => {
    try {
      checkRole(req.role, role);
      next();
    } catch (err) {
      if (!req.role) res.setHeader('WWW-Authenticate', WWW_AUTHENTICATE);
      next(err);
    }
  };
}
