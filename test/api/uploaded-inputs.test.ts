/**
 * Validation inputs larger than KILN_MAX_INLINE_INPUTS_BYTES are uploaded like models
 * (POST /v1/inputs) and named by their sha256 in options.validation.inputsRef; a real worker
 * downloads them and validates on them.
 */
import { createHash } from 'node:crypto';
import { tinyMlp } from '../models';
import { startFarm, waitForBuild, type TestFarm } from '../helpers/farm';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
jest.setTimeout(120_000);

describe('uploaded validation inputs', () => {
  let farm: TestFarm;
  let target: string;
  const inputs = { x: { dims: [64, 8], data: Array.from({ length: 512 }, (_, i) => Math.sin(i) / 3) } };
  const body = JSON.stringify(inputs);

  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_MAX_INLINE_INPUTS_BYTES: '2000' } });
    target = (await farm.startWorker()).targets[0];
    const pushed = await farm.request('POST', '/v1/models?name=mlp', { role: 'builder', body: tinyMlp(), headers: { 'content-type': 'application/octet-stream' } });
    expect(pushed.status).toBe(201);
  });
  afterAll(async () => {
    await farm.stop();
  });

  const upload = (text: string) => farm.request('POST', '/v1/inputs', { role: 'builder', body: text, headers: { 'content-type': 'application/octet-stream' } });

  it('stores inputs once by content and builds with them, validated on them, where inline they are refused', async () => {
    const inline = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'mlp', targets: [target], options: { validation: { inputs } } } });
    expect(inline.status).toBe(413);
    expect((await inline.json()).error.message).toContain('upload them (POST /v1/inputs, or kiln build --inputs FILE) and give options.validation.inputsRef');

    const first = await upload(body);
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ sha256: sha256(body), size: Buffer.byteLength(body), inputs: { x: { dims: [64, 8] } }, created: true });
    const again = await upload(body);
    expect(again.status).toBe(200);
    expect((await again.json()).created).toBe(false);

    const submitted = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'mlp', targets: [target], options: { validation: { inputsRef: sha256(body) }, benchmark: { iterations: 2, maxBatch: 1 } } } });
    expect(submitted.status).toBe(202);
    const build = await waitForBuild(farm, (await submitted.json()).builds[0].id);
    expect(build.state).toBe('succeeded');
    expect(build.report.validation.inputs.x).toEqual({ dims: [64, 8], type: 'float', source: 'user' });
  });

  it('refuses inputs that are not tensors, a reference to nothing, and inputs given both ways', async () => {
    const notJson = await upload('{"x": ');
    expect(notJson.status).toBe(422);
    expect((await notJson.json()).error.message).toMatch(/^Expected a JSON object of input tensors/);
    const miscounted = await upload(JSON.stringify({ x: { dims: [2, 8], data: [1, 2, 3] } }));
    expect(miscounted.status).toBe(422);
    expect((await miscounted.json()).error.message).toBe('Expected 16 values for input "x" (dims [2, 8]) but received 3');

    const missing = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'mlp', targets: [target], options: { validation: { inputsRef: sha256('nothing') } } } });
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.message).toContain(`no inputs ${sha256('nothing')} are stored; upload them first with POST /v1/inputs`);
    const both = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'mlp', targets: [target], options: { validation: { inputsRef: sha256(body), inputs: { x: { dims: [1, 8], data: [1, 2, 3, 4, 5, 6, 7, 8] } } } } } });
    expect(both.status).toBe(400);
    expect((await both.json()).error.message).toContain('Expected inputs or inputsRef, not both');
  });
});
