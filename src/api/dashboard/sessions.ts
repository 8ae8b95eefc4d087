/**
 * Dashboard sessions: signing in with a Kiln token creates a random session id, sent to the
 * browser in an HttpOnly cookie; Redis keeps, under the farm's prefix and with a TTL, the role's
 * source (the sha256 of the token, never the token) and the session's CSRF token. Redis keys are
 * named by the sha256 of the session id, so reading Redis does not yield usable cookies.
 *
 * The role is looked up again on every request from the token's digest, so a token removed from
 * the configuration (or given another role) takes effect at the next restart for open sessions too.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Role, TokenConfig } from '../../config';

export interface Session {
  /** The id the cookie holds. */
  id: string;
  role: Role;
  /** Synchronizer token that every state-changing request must carry. */
  csrf: string;
  createdAt: string;
}

interface StoredSession {
  tokenDigest: string;
  csrf: string;
  createdAt: string;
}

const RANK: Record<Role, number> = { reader: 1, builder: 2, admin: 3 };
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

export class SessionStore {
  private readonly roles = new Map<string, Role>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    tokens: TokenConfig[],
    /** Session lifetime in ms. */
    readonly ttlMs: number,
  ) {
    for (const t of tokens) {
      const digest = sha256Hex(t.token);
      const known = this.roles.get(digest);
      if (!known || RANK[t.role] > RANK[known]) this.roles.set(digest, t.role);
    }
  }

  private key(id: string): string {
    return `${this.prefix}:dashboard:session:${sha256Hex(id)}`;
  }

  /** Call only after the token was checked (TokenTable.roleOf); returns the new session. */
  async create(token: string): Promise<Session> {
    const tokenDigest = sha256Hex(token);
    const role = this.roles.get(tokenDigest);
    if (!role) throw new Error('Expected a token of this Kiln for a session');
    const id = randomBytes(32).toString('base64url');
    const stored: StoredSession = { tokenDigest, csrf: randomBytes(32).toString('base64url'), createdAt: new Date().toISOString() };
    await this.redis.set(this.key(id), JSON.stringify(stored), 'PX', this.ttlMs);
    return { id, role, csrf: stored.csrf, createdAt: stored.createdAt };
  }

  /** The session of a cookie value, or null (unknown, expired, malformed, or its token revoked). */
  async get(id: string | undefined): Promise<Session | null> {
    if (!id || !SESSION_ID.test(id)) return null;
    const json = await this.redis.get(this.key(id));
    if (!json) return null;
    const stored = JSON.parse(json) as StoredSession;
    const role = this.roles.get(stored.tokenDigest);
    if (!role) {
      await this.destroy(id);
      return null;
    }
    return { id, role, csrf: stored.csrf, createdAt: stored.createdAt };
  }

  async destroy(id: string): Promise<void> {
    if (SESSION_ID.test(id)) await this.redis.del(this.key(id));
  }
}

/** Timing-safe comparison of a submitted CSRF token with the session's. */
export function csrfMatches(session: Session, submitted: unknown): boolean {
  if (typeof submitted !== 'string' || submitted.length === 0) return false;
  const a = Buffer.from(sha256Hex(session.csrf));
  const b = Buffer.from(sha256Hex(submitted));
  return timingSafeEqual(a, b);
}

export function hasRole(session: Session | null | undefined, role: Role): boolean {
  return Boolean(session && RANK[session.role] >= RANK[role]);
}
