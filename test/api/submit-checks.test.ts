/**
 * Requests a target cannot build are refused at submit time, whole, before anything is queued: a
 * TensorRT target key names its TensorRT version and CC, so the worker's option gates run on the
 * API too; a calibration cache must have been uploaded. No worker is needed for any of this.
 */
import { createHash } from 'node:crypto';
import { startFarm, type TestFarm } from '../helpers/farm';
import { tinyConv } from '../models';

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const CACHE = 'TRT-100900-EntropyCalibration2\nx: 3c010a14\nlogits: 3e1a0b2c\n';

describe('submit-time checks', () => {
  let farm: TestFarm;

  beforeAll(async () => {
    farm = await startFarm();
    const res = await farm.request('POST', '/v1/models?name=conv', { role: 'builder', body: tinyConv(), headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(201);
  });
  afterAll(() => farm.stop());

  const submit = async (targets: string[], options: object) => {
    const res = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'conv', targets, options } });
    return { status: res.status, body: await res.json() };
  };
  const queued = async () => (await (await farm.request('GET', '/v1/builds', { role: 'reader' })).json()).builds;

  test('an option the target\'s TensorRT does not accept is refused with the worker\'s gate', async () => {
    const { status, body } = await submit(['trt8.6.1-sm75'], { tensorrt: { hardwareCompatibilityLevel: 'sameComputeCapability' } });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'bad_request', message: 'trt8.6.1-sm75: sameComputeCapability needs TensorRT >= 10.9; this target has 8.6.1' });
    expect(await queued()).toEqual([]);
  });

  test('every target\'s problem is named at once, version gates and GPU gates alike, and nothing is queued', async () => {
    const { status, body } = await submit(['trt10.9.0-sm89', 'trt8.6.1-sm75', 'trt10.9.0-sm75'], { tensorrt: { precision: ['bf16'] } });
    expect(status).toBe(400);
    expect(body.error.details.problems).toEqual([
      'trt8.6.1-sm75: bf16 needs TensorRT >= 9.0; this target has 8.6.1',
      'trt10.9.0-sm75: bf16 needs a GPU of compute capability >= 8.0; this target has 7.5',
    ]);
    expect(await queued()).toEqual([]);
  });

  test('a calibration cache that was never uploaded is refused; once uploaded, the request is queued', async () => {
    const sha = sha256(CACHE);
    const options = { tensorrt: { precision: ['int8'], calibration: sha } };
    const missing = await submit(['trt10.9.0-sm89'], options);
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toBe(
      `options.tensorrt.calibration: no INT8 calibration cache ${sha} was uploaded; upload it with POST /v1/calibration-caches (kiln calibration push FILE)`,
    );
    // A CPU-only request ignores TensorRT options.
    expect((await submit(['ort1.30.0-x86_64-avx2'], options)).status).toBe(202);

    const upload = await farm.request('POST', '/v1/calibration-caches', { role: 'builder', body: CACHE, headers: { 'content-type': 'application/octet-stream' } });
    expect(upload.status).toBe(201);
    const accepted = await submit(['trt10.9.0-sm89'], options);
    expect(accepted.status).toBe(202);
    expect(accepted.body.builds).toEqual([expect.objectContaining({ target: 'trt10.9.0-sm89', state: 'queued', warning: expect.stringMatching(/^No live worker serves trt10\.9\.0-sm89/) })]);
  });

  test('the OpenAPI document lists the calibration and timing-cache routes', async () => {
    const { paths } = await (await farm.request('GET', '/openapi.json', { role: null })).json();
    expect(paths['/v1/calibration-caches']).toMatchObject({ post: { 'x-kiln-role': 'builder' }, get: { 'x-kiln-role': 'reader' } });
    expect(paths['/v1/calibration-caches']?.post.requestBody.content).toHaveProperty(['multipart/form-data']);
    expect(paths['/v1/calibration-caches/{sha}']?.get.parameters).toEqual([{ name: 'sha', in: 'path', required: true, schema: { type: 'string' } }]);
    expect(Object.keys(paths['/v1/timing-caches'] ?? {})).toEqual(['get']);
    expect(paths['/v1/timing-caches/{trt}/{cc}']?.get.parameters.map((p: { name: string }) => p.name)).toEqual(['trt', 'cc']);
    expect(paths['/v1/timing-caches/{name}']?.get.parameters.map((p: { name: string }) => p.name)).toEqual(['name']);
  });
});
