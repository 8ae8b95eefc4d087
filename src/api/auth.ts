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

/** Reads the bearer token (if any) and sets req.role; never rejects by itself. */
export function identify(table: TokenTable): RequestHandler {
  return (req, _res, next) => {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      const role = table.roleOf(header.slice(7).trim());
      if (!role) return next(new ApiError(401, 'unauthorized', 'The bearer token is not valid for this Kiln'));
      req.role = role;
    }
    next();
  };
}

export function requireRole(role: Role): RequestHandler {
  return (req, res, next) => {
    if (!req.role) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="kiln"');
      return next(new ApiError(401, 'unauthorized', `Authentication required: send "Authorization: Bearer <token>" with a ${role} (or higher) token`));
    }
    if (RANK[req.role] < RANK[role]) {
      return next(new ApiError(403, 'forbidden', `This needs the ${role} role; your token has the ${req.role} role`));
    }
    next();
  };
}
