/**
 * Dashboard sessions: signing in with a Kiln token creates a random session id, sent to the
 * browser in an HttpOnly cookie; Redis keeps, under the farm's prefix and with a TTL, the role's
 * source (the sha256 of the token, never the token) and the session's CSRF token. Redis keys are
 * named by the sha256 of the session id, so reading Redis does not yield usable cookies.
 *
 * The role is looked up again on every request from the token's digest, so a token revoked or
 * expired (or removed from the configuration) ends the sessions opened with it too.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Role } from '../../config';
import { tokenIdOf } from '../../state/api-tokens';

export interface Session {
  /** The id the cookie holds. */
  id: string;
  role: Role;
  /** The public id of the token it was opened with (quotas are per token). */
  tokenId: string;
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
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** A token's role from its sha256 (hex); null when unknown, revoked or expired (TokenTable.roleOfDigest). */
    private readonly roleOf: (tokenDigest: string) => Promise<Role | null>,
    /** Session lifetime in ms. */
    readonly ttlMs: number,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:dashboard:session:${sha256Hex(id)}`;
  }

  /** Call only after the token was checked (TokenTable.identify); returns the new session. */
  async create(token: string): Promise<Session> {
    const tokenDigest = sha256Hex(token);
    const role = await this.roleOf(tokenDigest);
    if (!role) throw new Error('Expected a token of this Kiln for a session');
    const id = randomBytes(32).toString('base64url');
    const stored: StoredSession = { tokenDigest, csrf: randomBytes(32).toString('base64url'), createdAt: new Date().toISOString() };
    await this.redis.set(this.key(id), JSON.stringify(stored), 'PX', this.ttlMs);
    return { id, role, tokenId: tokenIdOf(tokenDigest), csrf: stored.csrf, createdAt: stored.createdAt };
  }

  /** The session of a cookie value, or null (unknown, expired, malformed, or its token revoked). */
  async get(id: string | undefined): Promise<Session | null> {
    if (!id || !SESSION_ID.test(id)) return null;
    const json = await this.redis.get(this.key(id));
    if (!json) return null;
    const stored = JSON.parse(json) as StoredSession;
    const role = await this.roleOf(stored.tokenDigest);
    if (!role) {
      await this.destroy(id);
      return null;
    }
    return { id, role, tokenId: tokenIdOf(stored.tokenDigest), csrf: stored.csrf, createdAt: stored.createdAt };
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
