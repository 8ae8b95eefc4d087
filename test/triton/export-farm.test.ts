/**
 * Shipping where engines run, end to end on a real farm with the trtexec stand-in (a test double,
 * not TensorRT) playing two GPUs of one TensorRT version and two compute capabilities (an RTX 3070,
 * CC 8.6, and an A100, CC 8.0): the Triton export as a tar and through `kiln export triton`, its
 * config.pbtxt parsed against Triton's model_config.proto; the EPContext model published with
 * each engine, resolved with format=epcontext, read back and refused by ONNX Runtime on the CPU for
 * the right reason; and a changed stored byte that cuts the export short.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { extract as tarExtract } from 'tar-stream';
import { KilnClient } from '../../src/cli/client';
import { exportTriton } from '../../src/cli/export-triton';
import { fetchArtifacts } from '../../src/cli/fetch-artifacts';
import { readModelInfo, readModelInfoFromBuffer } from '../../src/core/onnx';
import { ModelProto } from '../../src/core/onnx/schema';
import { createStore } from '../../src/storage/create-store';
import { blobKey } from '../../src/storage/layout';
import { createTensorRtToolchain } from '../../src/worker/toolchains/tensorrt';
import { startFarm, TOKENS, waitForBuild, type TestFarm } from '../helpers/farm';
import { parseModelConfig } from '../helpers/triton-config';
import { tinyConv } from '../models';
import { A100, RTX_3070, standinTrtexec, type PlayedGpu } from '../tensorrt/gpu-standin';

const ROOT = path.join(__dirname, '..', '..');
const TSX = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const OPTIONS = { tensorrt: { precision: ['fp16'] }, benchmark: { maxBatch: 4, warmup: 0, iterations: 3 } };
const TARGETS = ['trt10.3.0-sm86', 'trt10.3.0-sm80'];

/** The tar's entries in order: name -> bytes (folders as null). */
async function untar(bytes: Buffer): Promise<Map<string, Buffer | null>> {
  const entries = new Map<string, Buffer | null>();
  const extract = tarExtract();
  Readable.from([bytes]).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    entries.set(entry.header.name, entry.header.type === 'directory' ? null : Buffer.concat(chunks));
  }
  return entries;
}

describe('Triton export and EPContext models on a two-GPU farm', () => {
  let farm: TestFarm;
  let dir: string;
  const engines: Record<string, { buildKey: string; sha256: string }> = {};

  async function gpuWorker(played: PlayedGpu, name: string) {
    const toolchain = createTensorRtToolchain({ store: createStore(farm.config.store), gpu: played.gpu, trtexec: await standinTrtexec(dir, name, played), device: 0, killGraceMs: 500 });
    return farm.startWorker({ toolchains: [toolchain] }, { KILN_WORKER_ID: name });
  }

  function kiln(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const env: NodeJS.ProcessEnv = { ...process.env, KILN_URL: farm.url, KILN_TOKEN: TOKENS.reader };
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'src/cli/main.ts'), ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_ATTEMPTS: '1' } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-triton-'));
    await gpuWorker(RTX_3070, 'rtx3070');
    await gpuWorker(A100, 'a100');
    const upload = await farm.request('POST', '/v1/models?name=conv', { role: 'builder', body: tinyConv(), headers: { 'content-type': 'application/octet-stream' } });
    expect(upload.status).toBe(201);
    const submitted = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'conv', targets: TARGETS, options: OPTIONS } });
    for (const b of (await submitted.json()).builds as Array<{ id: string; target: string }>) {
      const build = await waitForBuild(farm, b.id);
      expect(build).toMatchObject({ state: 'succeeded', published: true });
      const engine = build.artifacts.find((a: { name: string }) => a.name === 'engine.plan');
      engines[b.target] = { buildKey: b.id, sha256: engine.sha256 };
    }
    // Two builds, validations and benchmarks: past jest's default minute on a busy two-core machine.
  }, 240_000);
  afterAll(async () => {
    await farm?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('GET export/triton streams a repository whose config.pbtxt parses against Triton\'s proto and maps both CCs', async () => {
    const res = await farm.request('GET', '/v1/models/conv/export/triton?onnx=1', { role: 'reader' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-tar');
    const entries = await untar(Buffer.from(await res.arrayBuffer()));
    expect([...entries.keys()]).toEqual([
      'kiln-export.json', 'conv/', 'conv/config.pbtxt', 'conv/1/', 'conv/1/model.sm80.plan', 'conv/1/model.sm86.plan',
      'conv_onnx/', 'conv_onnx/config.pbtxt', 'conv_onnx/1/', 'conv_onnx/1/model.onnx',
    ]);
    const config = parseModelConfig(entries.get('conv/config.pbtxt')!.toString());
    expect(config).toEqual({
      name: 'conv',
      platform: 'tensorrt_plan',
      // The profile Kiln derived for the builds: batch 1 to benchmark.maxBatch.
      maxBatchSize: 4,
      input: [{ name: 'x', dataType: 'TYPE_FP32', dims: [3, 16, 16] }],
      output: [{ name: 'logits', dataType: 'TYPE_FP32', dims: [10] }],
      ccModelFilenames: { '8.0': 'model.sm80.plan', '8.6': 'model.sm86.plan' },
      defaultModelFilename: '',
    });
    expect(sha256(entries.get('conv/1/model.sm86.plan')!)).toBe(engines['trt10.3.0-sm86'].sha256);
    expect(sha256(entries.get('conv/1/model.sm80.plan')!)).toBe(engines['trt10.3.0-sm80'].sha256);
    expect(sha256(entries.get('conv_onnx/1/model.onnx')!)).toBe(sha256(tinyConv()));
    expect(parseModelConfig(entries.get('conv_onnx/config.pbtxt')!.toString())).toMatchObject({ name: 'conv_onnx', platform: 'onnxruntime_onnx', maxBatchSize: 4 });
    const listing = JSON.parse(entries.get('kiln-export.json')!.toString());
    for (const f of listing.files) expect(sha256(entries.get(f.path)!)).toBe(f.sha256);
  });

  test('kiln export triton MODEL -o DIR writes the repository, every file verified', async () => {
    const out = path.join(dir, 'repo');
    const { code, stdout, stderr } = await kiln(['export', 'triton', 'conv', '-o', out]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('TensorRT');
    expect(stdout).toContain(`serve: tritonserver --model-repository=${out}`);
    expect((await readdir(out)).sort()).toEqual(['conv', 'kiln-export.json']);
    expect((await readdir(path.join(out, 'conv', '1'))).sort()).toEqual(['model.sm80.plan', 'model.sm86.plan']);
    const config = parseModelConfig(await readFile(path.join(out, 'conv', 'config.pbtxt'), 'utf8'));
    expect(config.ccModelFilenames).toEqual({ '8.0': 'model.sm80.plan', '8.6': 'model.sm86.plan' });
    expect(sha256(await readFile(path.join(out, 'conv', '1', 'model.sm86.plan')))).toBe(engines['trt10.3.0-sm86'].sha256);
  });

  test('the export says what was wrong with the query', async () => {
    const other = await farm.request('GET', '/v1/models/conv/export/triton?targets=trt10.3.0-sm89', { role: 'reader' });
    expect(other.status).toBe(404);
    expect((await other.json()).error.message).toBe('No published engine of this model for trt10.3.0-sm89 on linux-x86_64; it has trt10.3.0-sm80, trt10.3.0-sm86');
    const arm = await farm.request('GET', '/v1/models/conv/export/triton?platform=linux-aarch64', { role: 'reader' });
    expect(arm.status).toBe(404);
    expect((await arm.json()).error.message).toBe('No published TensorRT engine of this model on linux-aarch64; build one first (kiln build)');
    const cpu = await farm.request('GET', '/v1/models/conv/export/triton?targets=ort1.30.0-x86_64-avx2', { role: 'reader' });
    expect(cpu.status).toBe(400);
    expect((await cpu.json()).error.message).toBe('Expected TensorRT target keys in targets but received ort1.30.0-x86_64-avx2, an ONNX Runtime target');
    const name = await farm.request('GET', '/v1/models/conv/export/triton?name=../x', { role: 'reader' });
    expect(name.status).toBe(400);
    expect((await farm.request('GET', '/v1/models/conv/export/triton', { role: null })).status).toBe(401);
  });

  test('an EPContext model is published with each engine, resolved with format=epcontext, read back and refused by ONNX Runtime on the CPU', async () => {
    const answer = await (await farm.request('GET', '/v1/resolve?model=conv&cc=8.6&trt=10.3.0&format=epcontext', { role: 'reader' })).json();
    expect(answer).toMatchObject({ rung: 'same-cc', target: 'trt10.3.0-sm86', primary: 'model_ctx.onnx' });
    const out = path.join(dir, 'ort');
    await fetchArtifacts(new KilnClient({ url: farm.url, token: TOKENS.reader }), answer, out, { trt: '10.3.0' });
    const ctxModel = path.join(out, 'model_ctx.onnx');
    const info = await readModelInfo(ctxModel);
    expect(info).toMatchObject({ nodeCount: 1, nodeDomains: ['com.microsoft'], inputs: (await readModelInfoFromBuffer(tinyConv())).inputs });
    const decoded = ModelProto.toObject(ModelProto.decode(await readFile(ctxModel)), { longs: Number }) as { graph: { node: Array<{ name: string; attribute: Array<{ name: string; i?: number; s?: Uint8Array }> }> } };
    const attrs = Object.fromEntries(decoded.graph.node[0].attribute.map((a) => [a.name, a.s ? Buffer.from(a.s).toString() : a.i]));
    expect(attrs).toEqual({ main_context: 1, embed_mode: 0, ep_cache_context: 'engine.plan', hardware_architecture: 'sm86', partition_name: decoded.graph.node[0].name, source: 'TensorrtExecutionProvider', ep_sdk_version: '10.3.0' });
    // The engine it points at is the one fetched beside it.
    expect(sha256(await readFile(path.join(out, 'engine.plan')))).toBe(engines['trt10.3.0-sm86'].sha256);
    await expect(ort.InferenceSession.create(ctxModel)).rejects.toThrow(
      `EPContext node generated by 'TensorrtExecutionProvider' is not compatible with any execution provider added to the session. EPContext node name: '${decoded.graph.node[0].name}'. Available session execution providers: [CPUExecutionProvider].`,
    );
    const cpu = await farm.request('GET', '/v1/resolve?model=conv&target=ort1.30.0-x86_64-avx2&format=epcontext', { role: 'reader' });
    expect(cpu.status).toBe(400);
    expect((await cpu.json()).error.message).toBe("format=epcontext is for GPU clients (ONNX Runtime's TensorRT EP): give cc and trt");
  });

  test('kiln export epcontext --embed writes the EPContext model, its engine and one file with the engine inside', async () => {
    const out = path.join(dir, 'epcontext');
    const { code, stdout, stderr } = await kiln(['export', 'epcontext', 'conv', '--cc', '8.0', '--trt', '10.3.0', '--embed', '-o', out]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`use: onnxruntime.InferenceSession("${path.join(out, 'model_ctx.embedded.onnx')}"`);
    expect((await readdir(out)).sort()).toEqual(['engine.plan', 'manifest.json', 'model_ctx.embedded.onnx', 'model_ctx.onnx']);
    const engine = await readFile(path.join(out, 'engine.plan'));
    expect(sha256(engine)).toBe(engines['trt10.3.0-sm80'].sha256);
    const embedded = await readFile(path.join(out, 'model_ctx.embedded.onnx'));
    const node = (ModelProto.toObject(ModelProto.decode(embedded), { longs: Number }) as { graph: { node: Array<{ name: string; attribute: Array<{ name: string; i?: number; s?: Uint8Array }> }> } }).graph.node[0];
    const attrs = Object.fromEntries(node.attribute.map((a) => [a.name, a.s ? Buffer.from(a.s) : a.i]));
    expect(attrs.embed_mode).toBe(1);
    expect((attrs.ep_cache_context as Buffer).equals(engine)).toBe(true);
    expect(attrs.hardware_architecture).toEqual(Buffer.from('sm80'));
    await expect(ort.InferenceSession.create(embedded)).rejects.toThrow(`EPContext node generated by 'TensorrtExecutionProvider' is not compatible with any execution provider added to the session. EPContext node name: '${node.name}'.`);
    const none = await kiln(['export', 'epcontext', 'conv', '--cc', '7.5', '--trt', '10.3.0', '-o', path.join(dir, 'none')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('No engine with an EPContext model for TensorRT 10.3.0 on CC 7.5 (rung onnx:');
  });

  test('a stored engine changed by one byte cuts the export short, and the CLI says so without writing it', async () => {
    const { sha256: engineSha } = engines['trt10.3.0-sm86'];
    if (farm.config.store.kind !== 'filesystem') throw new Error('this test changes a file of the filesystem store');
    // Artifact files are stored once by content (docs/cleanup.md): the engine's blob is its sha256.
    const stored = path.join(farm.config.store.dir, blobKey(engineSha));
    const bytes = await readFile(stored);
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(stored, bytes);
    const out = path.join(dir, 'tampered');
    await expect(exportTriton(new KilnClient({ url: farm.url, token: TOKENS.reader }), 'conv', out, {})).rejects.toThrow(
      /^The export was cut short \(.+\) before conv\/1\/model\.sm86\.plan arrived: a stored file differs from its manifest, or the connection broke; the files written are verified$/,
    );
    expect(await readdir(path.join(out, 'conv', '1'))).toEqual(['model.sm80.plan']);
  });
});
