/**
 * Bearer tokens with roles: reader (resolve, fetch), builder (+ upload, submit, cancel), admin
 * (+ workers, administration). Tokens are compared as sha256 digests with timingSafeEqual, against
 * every configured token, so neither a token's content nor its position leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Role, TokenConfig } from '../config';
import { ApiError } from './errors';

const RANK: Record<Role, number> = { reader: 1, builder: 2, admin: 3 };

const digest = (token: string) => createHash('sha256').update(token).digest();

export class TokenTable {
  private readonly entries: { digest: Buffer; role: Role }[];

  constructor(tokens: TokenConfig[]) {
    this.entries = tokens.map((t) => ({ digest: digest(t.token), role: t.role }));
  }

  roleOf(token: string): Role | null {
    const candidate = digest(token);
    let found: Role | null = null;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, candidate) && (!found || RANK[entry.role] > RANK[found])) found = entry.role;
    }
    return found;
  }
}

declare module 'express-serve-static-core' {
  interface Request {
    role?: Role;
  }
}

/** The role of an Authorization header: null without a bearer token; 401 for an unknown one. */
export function roleFromHeader(table: TokenTable, header: string | undefined): Role | null {
  if (!header?.startsWith('Bearer ')) return null;
  const role = table.roleOf(header.slice(7).trim());
  if (!role) throw new ApiError(401, 'unauthorized', 'The bearer token is not valid for this Kiln');
  return role;
}

/** 401 without a role, 403 with too low a one; says what is missing either way. */
export function checkRole(have: Role | null | undefined, needed: Role): void {
  if (!have) {
    throw new ApiError(401, 'unauthorized', `Authentication required: send "Authorization: Bearer <token>" with a ${needed} (or higher) token`);
  }
  if (RANK[have] < RANK[needed]) throw new ApiError(403, 'forbidden', `This needs the ${needed} role; your token has the ${have} role`);
}

export const WWW_AUTHENTICATE = 'Bearer realm="kiln"';

/** Reads the bearer token (if any) and sets req.role; rejects only a token that is not valid. */
export function identify(table: TokenTable): RequestHandler {
  return (req, _res, next) => {
    try {
      req.role = roleFromHeader(table, req.headers.authorization) ?? undefined;
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
