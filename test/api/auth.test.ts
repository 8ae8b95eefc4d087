/** Every role gets exactly what it should, and 401/403 say what is missing. */
import { tinyAdd } from '../models';
import { startFarm, TOKENS, type TestFarm } from '../helpers/farm';

describe('auth', () => {
  let farm: TestFarm;
  let buildId: string;

  beforeAll(async () => {
    farm = await startFarm();
    const model = await farm.request('POST', '/v1/models?name=add', { role: 'builder', body: tinyAdd(), headers: { 'content-type': 'application/octet-stream' } });
    expect(model.status).toBe(201);
    const submitted = await (await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'add', targets: ['ort1.30.0-x86_64-baseline'] } })).json();
    buildId = submitted.builds[0].id;
  });
  afterAll(() => farm.stop());

  it('asks for a token when none is sent', async () => {
    const response = await farm.request('GET', '/v1/models', { role: null });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect((await response.json()).error.message).toMatch(/Authorization: Bearer <token>/);
  });

  it('rejects an unknown token', async () => {
    const response = await farm.request('GET', '/v1/models', { role: null, headers: { authorization: `Bearer ${TOKENS.admin}x` } });
    expect(response.status).toBe(401);
    expect((await response.json()).error.message).toMatch(/not valid/);
  });

  it.each([
    ['reader', 'POST', '/v1/models', 'builder'],
    ['reader', 'POST', '/v1/builds', 'builder'],
    ['reader', 'DELETE', '/v1/builds/:id', 'builder'],
    ['reader', 'POST', '/v1/builds/:id/retry', 'builder'],
    ['reader', 'GET', '/v1/workers', 'admin'],
    ['builder', 'GET', '/v1/workers', 'admin'],
    ['builder', 'POST', '/v1/admin/reindex', 'admin'],
  ] as const)('denies %s %s %s (needs %s)', async (role, method, route, needed) => {
    const response = await farm.request(method, route.replace(':id', buildId), { role, body: method === 'POST' ? {} : undefined });
    expect(response.status).toBe(403);
    expect((await response.json()).error.message).toBe(`This needs the ${needed} role; your token has the ${role} role`);
  });

  it.each([
    ['reader', 'GET', '/v1/models'],
    ['reader', 'GET', '/v1/builds/:id'],
    ['reader', 'GET', '/v1/resolve?model=add&target=ort1.30.0-x86_64-baseline'],
    ['builder', 'DELETE', '/v1/builds/:id'],
    ['admin', 'GET', '/v1/workers'],
  ] as const)('allows %s %s %s', async (role, method, route) => {
    const response = await farm.request(method, route.replace(':id', buildId), { role });
    expect(response.status).toBeLessThan(300);
  });

  it('leaves health and the OpenAPI document open', async () => {
    expect((await fetch(`${farm.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${farm.url}/openapi.json`)).status).toBe(200);
  });
});
