/**
 * INT8 calibration caches end to end, with the trtexec stand-in (a test double, not TensorRT)
 * playing the GPUs: uploaded like models (checked, size-limited, stored once by sha256), listed and
 * downloaded, pushed and listed by the CLI, and used by an int8 build that hands them to trtexec
 * as --calib. A cache gone from the store fails the build as bad input.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/cli/main';
import { createStore } from '../../src/storage/create-store';
import { calibrationKey } from '../../src/storage/layout';
import { createTensorRtToolchain } from '../../src/worker/toolchains/tensorrt';
import { startFarm, TOKENS, waitForBuild, type TestFarm } from '../helpers/farm';
import { tinyConv, tinyMlp } from '../models';
import { RTX_4080, standinTrtexec, T4, type PlayedGpu } from './gpu-standin';

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
/** As TensorRT 8.6.1 writes one (scales are float32 bits in hex; names may hold spaces and brackets). */
const CACHE_86 = 'TRT-8601-EntropyCalibration2\nx: 3c010a14\n/conv/Conv_output_0: 3d8e2c11\n(Unnamed Layer* 4) [Constant]_output: 3c008912\nlogits: 3e1a0b2c\n';
const CACHE_109 = 'TRT-100900-EntropyCalibration2\nx: 3c010a14\nlogits: 3e1a0b2c\n';
const LIMIT = 64 * 1024;
const QUICK = { benchmark: { maxBatch: 2, warmup: 0, iterations: 3 } };

describe('INT8 calibration caches', () => {
  let farm: TestFarm;
  let dir: string;

  async function gpuWorker(played: PlayedGpu, name: string) {
    const toolchain = createTensorRtToolchain({ store: createStore(farm.config.store), gpu: played.gpu, trtexec: await standinTrtexec(dir, name, played), device: 0, killGraceMs: 500 });
    return farm.startWorker({ toolchains: [toolchain] }, { KILN_WORKER_ID: name });
  }
  const push = (body: string | Uint8Array, headers: Record<string, string> = { 'content-type': 'application/octet-stream' }) =>
    farm.request('POST', '/v1/calibration-caches', { role: 'builder', body, headers });
  const listed = async () => (await (await farm.request('GET', '/v1/calibration-caches', { role: 'reader' })).json()).calibrationCaches;
  const multipart = (content: string | Buffer) => {
    const boundary = 'kiln-calibration-boundary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="calib.cache"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      Buffer.from(content),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    return { body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
  };

  beforeAll(async () => {
    // The model limit, set lower here, caps calibration uploads too: a cheap 413.
    farm = await startFarm({ env: { KILN_ATTEMPTS: '1', KILN_MAX_MODEL_BYTES: String(LIMIT) } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-calibration-'));
    await gpuWorker(RTX_4080, 'rtx4080');
    for (const [name, bytes] of [['conv', tinyConv()], ['mlp', tinyMlp()]] as const) {
      const res = await farm.request('POST', `/v1/models?name=${name}`, { role: 'builder', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await farm?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a cache is checked, stored once by sha256, listed and downloaded', async () => {
    const first = await push(CACHE_86);
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({
      sha256: sha256(CACHE_86),
      sizeBytes: CACHE_86.length,
      header: 'TRT-8601-EntropyCalibration2',
      trtVersion: '8.6.1',
      algorithm: 'EntropyCalibration2',
      tensors: 4,
      created: true,
    });
    const again = await push(CACHE_86);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ sha256: sha256(CACHE_86), created: false });
    const viaForm = multipart(CACHE_109);
    const second = await push(viaForm.body, viaForm.headers);
    expect(second.status).toBe(201);
    expect(await second.json()).toMatchObject({ sha256: sha256(CACHE_109), trtVersion: '10.9.0', tensors: 2 });

    const caches = await listed();
    expect(caches.map((c: { sha256: string }) => c.sha256).sort()).toEqual([sha256(CACHE_86), sha256(CACHE_109)].sort());
    expect(caches.find((c: { sha256: string }) => c.sha256 === sha256(CACHE_86))).toEqual({
      sha256: sha256(CACHE_86),
      sizeBytes: CACHE_86.length,
      uploadedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      header: 'TRT-8601-EntropyCalibration2',
      trtVersion: '8.6.1',
      algorithm: 'EntropyCalibration2',
    });
    const download = await farm.request('GET', `/v1/calibration-caches/${sha256(CACHE_86)}`, { role: 'reader' });
    expect(download.status).toBe(200);
    expect(download.headers.get('x-kiln-sha256')).toBe(sha256(CACHE_86));
    expect(await download.text()).toBe(CACHE_86);
    expect((await farm.request('GET', `/v1/calibration-caches/${'0'.repeat(64)}`, { role: 'reader' })).status).toBe(404);
    expect((await farm.request('GET', '/v1/calibration-caches/nope', { role: 'reader' })).status).toBe(400);
    const asReader = await farm.request('POST', '/v1/calibration-caches', { role: 'reader', body: CACHE_86, headers: { 'content-type': 'application/octet-stream' } });
    expect(asReader.status).toBe(403);
  });

  test('what is not a calibration cache, or is over the limit, is refused and nothing is stored', async () => {
    const before = await listed();
    const model = await push(tinyConv());
    expect(model.status).toBe(422);
    expect((await model.json()).error).toMatchObject({
      code: 'invalid_calibration_cache',
      message: expect.stringMatching(/^Expected a TensorRT INT8 calibration cache \(a first line like TRT-8601-EntropyCalibration2, then "tensorName: hexScale" lines\) but line 1 is ".*", not TRT-<version>-<algorithm>$/),
    });
    const badLine = await push('TRT-8601-EntropyCalibration2\nx: 3c010a14\nlogits = 0.25\n');
    expect(badLine.status).toBe(422);
    expect((await badLine.json()).error.message).toBe(
      'Expected "tensorName: hexScale" lines (a float32\'s bits in hex, e.g. data: 3c008912) after the header but line 3 is "logits = 0.25"',
    );
    const headerOnly = await push('TRT-8601-EntropyCalibration2\n');
    expect((await headerOnly.json()).error.message).toBe('Expected at least one "tensorName: hexScale" line after the header TRT-8601-EntropyCalibration2 but the file has none');
    const empty = await push('');
    expect((await empty.json()).error.message).toMatch(/but the file is empty$/);

    // Streamed in a form with no declared size: cut off once it passes the limit.
    const huge = multipart(`TRT-8601-EntropyCalibration2\n${'t: 3c010a14\n'.repeat(LIMIT / 12 + 10)}`);
    const tooLarge = await push(huge.body, huge.headers);
    expect(tooLarge.status).toBe(413);
    expect((await tooLarge.json()).error.message).toMatch(new RegExp(`^Calibration cache upload is over the limit of ${LIMIT} bytes`));

    expect(await listed()).toEqual(before);
    expect(await readdir(farm.config.tmpDir)).toEqual([]);
  });

  test('an int8 build hands the cache to trtexec as --calib and records it', async () => {
    const sha = sha256(CACHE_86);
    const res = await farm.request('POST', '/v1/builds', {
      role: 'builder',
      body: { model: 'conv', targets: ['trt10.9.0-sm89'], options: { ...QUICK, tensorrt: { precision: ['int8'], calibration: sha } } },
    });
    expect(res.status).toBe(202);
    const build = await waitForBuild(farm, (await res.json()).builds[0].id);
    expect(build).toMatchObject({ state: 'succeeded', published: true });
    const details = build.report.build.details;
    expect(details.calibration).toEqual({ sha256: sha, header: 'TRT-8601-EntropyCalibration2', algorithm: 'EntropyCalibration2', trtVersion: '8.6.1', tensors: 4, sizeBytes: CACHE_86.length });
    const calib = details.argv.find((a: string) => a.startsWith('--calib='));
    expect(calib).toMatch(/^--calib=\/.*\/calibration\.cache$/);
    expect(details.argv).toContain('--int8');
    // A cache written by another major TensorRT version is worth a warning, not a refusal.
    expect(build.report.warnings).toContain(
      'calibration cache TRT-8601-EntropyCalibration2 was written by TensorRT 8.6.1; this build uses 10.9.0, and TensorRT may refuse a table from another major version (recalibrate, or rewrite the header)',
    );
    const log = await (await farm.request('GET', `/v1/builds/${build.id}/log`, { role: 'reader' })).text();
    expect(log).toContain(`calibration: INT8 calibration cache ${sha} (TRT-8601-EntropyCalibration2, 4 tensor scales, ${CACHE_86.length} bytes)`);
    expect(log).toContain(`[I] Calibration: ${calib.slice('--calib='.length)}`);
    expect(log).toContain('[I] [TRT] Reading Calibration Cache for calibrator: EntropyCalibration2');
  });

  test('a cache gone from the store fails the build as bad input, naming the sha and how to upload', async () => {
    // The T4 worker starts only after the cache is gone, so the submit-time check passes and the worker's fails.
    const sha = sha256(CACHE_109);
    const res = await farm.request('POST', '/v1/builds', {
      role: 'builder',
      body: { model: 'mlp', targets: ['trt8.6.1-sm75'], options: { ...QUICK, tensorrt: { precision: ['int8'], calibration: sha } } },
    });
    expect(res.status).toBe(202);
    await farm.api.ctx.store.delete(calibrationKey(sha));
    await gpuWorker(T4, 't4');
    const build = await waitForBuild(farm, (await res.json()).builds[0].id);
    expect(build).toMatchObject({
      state: 'failed',
      error: `options.tensorrt.calibration: no INT8 calibration cache ${sha} was uploaded; upload it with POST /v1/calibration-caches (kiln calibration push FILE)`,
    });
  });

  test('kiln calibration push and list', async () => {
    const file = path.join(dir, 'resnet.calib.cache');
    const content = 'TRT-100900-MinMaxCalibration\ndata: 3c008912\n';
    await writeFile(file, content);
    const out: string[] = [];
    const io = { stdout: { write: (s: string | Uint8Array) => out.push(String(s)) }, stderr: { write: (s: string | Uint8Array) => out.push(String(s)) } };
    const kiln = async (...args: string[]) => {
      out.length = 0;
      const code = await run(['--url', farm.url, '--token', TOKENS.builder, 'calibration', ...args], io);
      return { code, text: out.join('') };
    };
    const pushed = await kiln('push', file);
    expect(pushed.code).toBe(0);
    expect(pushed.text).toContain('Stored resnet.calib.cache');
    expect(pushed.text).toMatch(new RegExp(`sha256:\\s+${sha256(content)}`));
    expect(pushed.text).toMatch(/written by:\s+TensorRT 10\.9\.0 \(MinMaxCalibration\)/);
    const list = await kiln('list', '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.text).calibrationCaches.map((c: { header: string }) => c.header)).toContain('TRT-100900-MinMaxCalibration');
    const bad = await kiln('push', path.join(dir, 'missing.cache'));
    expect(bad).toEqual({ code: 2, text: `error: Expected a calibration cache file to push but "${path.join(dir, 'missing.cache')}" is missing\n` });
  });
});
