/** Tokens that expire and can be revoked: created by admins in Redis, and KILN_TOKENS with @expiry. */
import { parseTokens } from '../../src/config';
import { startFarm, type TestFarm } from '../helpers/farm';

describe('API tokens', () => {
  let farm: TestFarm;
  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_TOKENS: `admin:admin-token-0123456789abcdef,reader:expired-reader-token-0001@2020-01-01` } });
  });
  afterAll(() => farm.stop());

  const as = (token: string, path = '/v1/models') => fetch(`${farm.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

  it('creates a token shown once and stored hashed, which works, is listed, and stops working when revoked', async () => {
    const created = await farm.request('POST', '/v1/tokens', { body: { name: 'ci', role: 'builder' } });
    expect(created.status).toBe(201);
    const { token, id, role } = await created.json();
    expect(role).toBe('builder');
    expect(token).toMatch(/^kiln_[A-Za-z0-9_-]{43}$/);
    expect((await as(token)).status).toBe(200);

    const listed = await (await farm.request('GET', '/v1/tokens')).json();
    expect(listed.tokens.find((t: { id: string }) => t.id === id)).toMatchObject({ name: 'ci', role: 'builder', source: 'api' });
    expect(JSON.stringify(listed)).not.toContain(token);
    const stored = await farm.api.ctx.redis.hgetall(farm.api.ctx.keys.tokens);
    expect(JSON.stringify(stored)).not.toContain(token);

    expect((await farm.request('DELETE', `/v1/tokens/${id}`)).status).toBe(200);
    const refused = await as(token);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as any).error.message).toContain('not valid for this Kiln (unknown or revoked)');
    expect((await farm.request('DELETE', `/v1/tokens/${id}`)).status).toBe(404);
  });

  it('refuses an expired token, saying when it expired', async () => {
    const created = await (await farm.request('POST', '/v1/tokens', { body: { name: 'short', role: 'reader', expiresInSeconds: 1 } })).json();
    expect((await as(created.token)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    const refused = await as(created.token);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as any).error).toMatchObject({ code: 'token_expired', message: expect.stringMatching(/^The bearer token expired at \d{4}-/) });

    const configured = await as('expired-reader-token-0001');
    expect(configured.status).toBe(401);
    expect(((await configured.json()) as any).error.message).toContain('expired at 2020-01-01T00:00:00.000Z');
  });

  it('needs an admin, and cannot revoke a KILN_TOKENS token at run time', async () => {
    const created = await (await farm.request('POST', '/v1/tokens', { body: { name: 'b', role: 'builder' } })).json();
    expect((await fetch(`${farm.url}/v1/tokens`, { headers: { authorization: `Bearer ${created.token}` } })).status).toBe(403);
    const list = await (await farm.request('GET', '/v1/tokens')).json();
    const configured = list.tokens.find((t: { source: string }) => t.source === 'config');
    expect((await farm.request('DELETE', `/v1/tokens/${configured.id}`)).status).toBe(409);
  });

  it('parses KILN_TOKENS expiries', () => {
    expect(parseTokens('admin:abcdefghijklmnop@2030-06-01')[0]).toEqual({ role: 'admin', token: 'abcdefghijklmnop', expiresAt: new Date('2030-06-01T00:00:00Z') });
    expect(parseTokens('admin:abcdefghijklmnop')[0]).toEqual({ role: 'admin', token: 'abcdefghijklmnop' });
  });
});
