/**
 * GET /v1/resolve is answered before Express, from a short-lived cache: the same auth answers as
 * every other route, and a build that publishes is visible to the very next resolve.
 */
import { tinyAdd } from '../models';
import { startFarm, waitForBuild, type TestFarm } from '../helpers/farm';

describe('resolve', () => {
  let farm: TestFarm;
  let target: string;

  beforeAll(async () => {
    farm = await startFarm();
    target = (await farm.startWorker()).targets[0];
    await farm.request('POST', '/v1/models?name=add', { role: 'builder', body: tinyAdd(), headers: { 'content-type': 'application/octet-stream' } });
  });
  afterAll(() => farm.stop());

  const resolve = (query: string, role: 'reader' | null = 'reader') => farm.request('GET', `/v1/resolve?${query}`, { role });

  it('asks for a token and names what is wrong with a query', async () => {
    const anonymous = await resolve(`model=add&target=${target}`, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect((await anonymous.json()).error.message).toMatch(/with a reader \(or higher\) token/);

    const missing = await resolve('model=add');
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.message).toMatch(/Give target .* or cc and trt/);
    const unknown = await resolve(`model=nope&target=${target}`);
    expect(unknown.status).toBe(404);
    const half = await resolve('model=add&cc=8.9');
    expect((await half.json()).error.message).toBe('A GPU client gives both cc (e.g. 8.9) and trt (e.g. 10.9.0)');
  });

  it('serves a newly published artifact on the next resolve, though the old answer was cached', async () => {
    const before = await (await resolve(`model=add&target=${target}`)).json();
    expect(before.rung).toBe('onnx');
    const body = await (await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'add', targets: [target], options: { benchmark: { iterations: 2, maxBatch: 1 } } } })).json();
    expect((await waitForBuild(farm, body.builds[0].id)).state).toBe('succeeded');
    const after = await (await resolve(`model=add&target=${target}`)).json();
    expect(after).toMatchObject({ rung: 'cpu', buildKey: body.builds[0].id });
  });
});
