/** Dashboard sessions in Redis, the session cookie, and the CSRF and origin checks. */
import { randomBytes } from 'node:crypto';
import type { Request } from 'express';
import { Redis } from 'ioredis';
import { parseCookies, serializeCookie } from '../../src/api/dashboard/cookies';
import { csrfProtected, originProblem, safeNext, sameOrigin } from '../../src/api/dashboard/session-auth';
import { csrfMatches, SessionStore, sha256Hex } from '../../src/api/dashboard/sessions';
import { ApiError } from '../../src/api/errors';
import { deletePrefix, REDIS_URL } from '../helpers/farm';
import { TokenTable } from '../../src/api/auth';
import type { TokenConfig } from '../../src/config';

/** The roles of a token list, as the API's TokenTable gives them to sessions. */
const rolesOf = (list: TokenConfig[]) => {
  const table = new TokenTable(list);
  return (digest: string) => table.roleOfDigest(digest);
};

const tokens = [
  { role: 'reader' as const, token: 'reader-token-session-test-0001' },
  { role: 'admin' as const, token: 'admin-token-session-test-00001' },
];

describe('SessionStore', () => {
  const prefix = `kt${randomBytes(5).toString('hex')}`;
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await deletePrefix(prefix);
    redis.disconnect();
  });

  it('creates a session with a TTL, keyed by a hash of its id, holding no token', async () => {
    const store = new SessionStore(redis, prefix, rolesOf(tokens), 60_000);
    const session = await store.create(tokens[1].token);
    expect(session.role).toBe('admin');
    expect(session.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const keys = await redis.keys(`${prefix}:dashboard:session:*`);
    expect(keys).toEqual([`${prefix}:dashboard:session:${sha256Hex(session.id)}`]);
    const stored = (await redis.get(keys[0]))!;
    expect(stored).not.toContain(tokens[1].token);
    expect(stored).not.toContain(session.id);
    const ttl = await redis.pttl(keys[0]);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await store.get(session.id)).toEqual(session);
  });

  it('knows nothing of unknown, malformed or destroyed session ids', async () => {
    const store = new SessionStore(redis, prefix, rolesOf(tokens), 60_000);
    const session = await store.create(tokens[0].token);
    expect(await store.get(undefined)).toBeNull();
    expect(await store.get('not a session id')).toBeNull();
    expect(await store.get(randomBytes(32).toString('base64url'))).toBeNull();
    await store.destroy(session.id);
    expect(await store.get(session.id)).toBeNull();
  });

  it('drops a session whose token is no longer configured, and follows role changes', async () => {
    const before = new SessionStore(redis, prefix, rolesOf(tokens), 60_000);
    const session = await before.create(tokens[0].token);
    const promoted = new SessionStore(redis, prefix, rolesOf([{ role: 'builder', token: tokens[0].token }]), 60_000);
    expect((await promoted.get(session.id))?.role).toBe('builder');
    const revoked = new SessionStore(redis, prefix, rolesOf([tokens[1]]), 60_000);
    expect(await revoked.get(session.id)).toBeNull();
    expect(await before.get(session.id)).toBeNull(); // deleted, not merely hidden
  });

  it('refuses to create a session for a token it does not know', async () => {
    const store = new SessionStore(redis, prefix, rolesOf(tokens), 60_000);
    await expect(store.create('some-other-token-0123456789')).rejects.toThrow(/token of this Kiln/);
  });

  it('compares CSRF tokens exactly', async () => {
    const session = await new SessionStore(redis, prefix, rolesOf(tokens), 60_000).create(tokens[0].token);
    expect(csrfMatches(session, session.csrf)).toBe(true);
    expect(csrfMatches(session, session.csrf.slice(1))).toBe(false);
    expect(csrfMatches(session, '')).toBe(false);
    expect(csrfMatches(session, undefined)).toBe(false);
    expect(csrfMatches(session, [session.csrf])).toBe(false);
  });
});

describe('session cookie', () => {
  it('is HttpOnly and SameSite=Strict, Secure on https, scoped to /dashboard', () => {
    expect(serializeCookie('kiln_session', 'abc', { path: '/dashboard', maxAge: 3600, secure: false })).toBe('kiln_session=abc; Path=/dashboard; Max-Age=3600; HttpOnly; SameSite=Strict');
    expect(serializeCookie('kiln_session', '', { path: '/dashboard', maxAge: 0, secure: true })).toMatch(/Max-Age=0; HttpOnly; SameSite=Strict; Secure$/);
  });

  it('parses a Cookie header, first occurrence winning', () => {
    expect(parseCookies('a=1; kiln_session=x%2By; a=2; junk; b="q"')).toEqual({ a: '1', kiln_session: 'x+y', b: 'q' });
    expect(parseCookies(undefined)).toEqual({});
  });

  it('only sends the browser back to dashboard paths after sign-in', () => {
    expect(safeNext('/dashboard/builds?state=failed')).toBe('/dashboard/builds?state=failed');
    expect(safeNext('/dashboard')).toBe('/dashboard');
    for (const bad of ['//evil.example/dashboard', 'https://evil.example/dashboard', '/v1/builds', '/dashboardx', '/dashboard\\evil', 42]) {
      expect(safeNext(bad)).toBe('/dashboard');
    }
  });
});

describe('CSRF and origin checks', () => {
  const session = { id: 'x', role: 'builder' as const, csrf: 'the-csrf-token', createdAt: '' };
  const request = (headers: Record<string, string>, body: Record<string, unknown> = {}, protocol = 'http') =>
    ({
      method: 'POST',
      protocol,
      host: 'kiln.example:8080',
      body,
      dashboardSession: session,
      get: (name: string) => headers[name.toLowerCase()],
    }) as unknown as Request;
  const run = (middleware: ReturnType<typeof csrfProtected>, req: Request) => {
    let result: unknown = 'not called';
    middleware(req, {} as never, (err?: unknown) => (result = err));
    return result;
  };

  it('accepts the session token from this origin, in the header or a form field', () => {
    expect(run(csrfProtected(), request({ origin: 'http://kiln.example:8080', 'x-csrf-token': 'the-csrf-token' }))).toBeUndefined();
    expect(run(csrfProtected(), request({ referer: 'http://kiln.example:8080/dashboard/builds' }, { _csrf: 'the-csrf-token' }))).toBeUndefined();
  });

  it('rejects a wrong or missing token with 403', () => {
    for (const req of [request({ origin: 'http://kiln.example:8080', 'x-csrf-token': 'guess' }), request({ origin: 'http://kiln.example:8080' })]) {
      const err = run(csrfProtected(), req) as ApiError;
      expect(err).toBeInstanceOf(ApiError);
      expect(err.status).toBe(403);
      expect(err.code).toBe('csrf');
    }
  });

  it('rejects other origins, look-alike referers and requests that say neither', () => {
    expect(originProblem(request({ origin: 'http://evil.example' }))).toBe('Expected requests from origin http://kiln.example:8080 but received one from http://evil.example');
    expect(originProblem(request({ origin: 'https://kiln.example:8080' }))).toMatch(/Expected requests from origin http:/);
    expect(originProblem(request({ referer: 'http://kiln.example:8080.evil.example/x' }))).toMatch(/Referer/);
    expect(originProblem(request({}))).toMatch(/received neither/);
    expect(originProblem(request({ origin: 'https://kiln.example:8080' }, {}, 'https'))).toBeNull();
    const err = run(csrfProtected(), request({ origin: 'http://evil.example', 'x-csrf-token': 'the-csrf-token' })) as ApiError;
    expect(err.code).toBe('cross_origin');
    expect((run(sameOrigin(), request({ origin: 'http://evil.example' })) as ApiError).status).toBe(403);
    expect(run(sameOrigin(), { ...request({}), method: 'GET' } as Request)).toBeUndefined();
  });
});
