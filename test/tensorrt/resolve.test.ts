/**
 * The resolution ladder as a function: which published artifact a client gets, and why the rungs
 * above did not match. The farm suite checks the same rungs through the API.
 */
import { makeBuildSpec } from '../../src/core/build-spec';
import type { Manifest } from '../../src/core/manifest';
import { BuildOptionsSchema, type BuildOptionsInput } from '../../src/core/options';
import { summarize, type PublishedArtifact } from '../../src/core/published-artifact';
import { resolveArtifact, type Client, type TimingCacheOffer } from '../../src/core/resolve';
import { parseTargetKey } from '../../src/core/target';

const MODEL = 'a'.repeat(64);
let n = 0;

function published(target: string, options: BuildOptionsInput = {}, validation: Manifest['validation'] = 'pass'): PublishedArtifact {
  const spec = makeBuildSpec(MODEL, parseTargetKey(target), BuildOptionsSchema.parse(options));
  const buildKey = (n++).toString(16).padStart(64, '0');
  return summarize({
    schema: 1,
    buildKey,
    spec,
    primary: 'engine.plan',
    files: [{ name: 'engine.plan', sha256: 'b'.repeat(64), size: 100, role: 'engine' }],
    worker: { id: 'w', host: 'h', toolchains: {}, hardware: {} },
    validation,
    publishedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    buildSeconds: 1,
  });
}

/** A timing cache on offer; which one does not matter to the rungs. */
const CACHE: TimingCacheOffer = { cache: { scope: { trt: '10.9.0', cc: '8.9', sku: 'nvidia-l4' }, sizeBytes: 1 }, match: 'sku' };

const gpu = (cc: string, trt: string, sku?: string, precision?: string): Client => ({ kind: 'gpu', cc, trt, sku, precision });

describe('resolveArtifact', () => {
  const sku = published('trt10.9.0-sm89-nvidia-geforce-rtx-4080');
  const cc = published('trt10.9.0-sm89', { tensorrt: { precision: ['fp16'] } });
  const ampere = published('trt10.9.0-sm86-ampere+');
  const sameCc = published('trt10.9.0-sm75-same-cc');
  const old = published('trt8.6.1-sm89');
  const cpu = published('ort1.30.0-x86_64-avx2');
  const all = [sku, cc, ampere, sameCc, old, cpu];

  test('1. exact SKU', () => {
    expect(resolveArtifact(gpu('8.9', '10.9.0', 'nvidia-geforce-rtx-4080'), all, CACHE)).toMatchObject({ rung: 'exact-sku', artifact: sku, note: 'Engine built on a nvidia-geforce-rtx-4080' });
  });

  test('2. same CC: the CC-wide engine first, another SKU of the CC when that is all there is', () => {
    expect(resolveArtifact(gpu('8.9', '10.9.0', 'nvidia-geforce-rtx-4090'), all, CACHE)).toMatchObject({ rung: 'same-cc', artifact: cc });
    expect(resolveArtifact(gpu('8.9', '10.9.0'), [sku], CACHE)).toMatchObject({ rung: 'same-cc', artifact: sku, note: 'Engine built for compute capability 8.9 on a nvidia-geforce-rtx-4080' });
  });

  test('3. hardware-compatible: ampere+ for CC >= 8.0, same-cc only for its own CC', () => {
    expect(resolveArtifact(gpu('9.0', '10.9.0'), all, CACHE)).toMatchObject({ rung: 'hardware-compatible', artifact: ampere });
    expect(resolveArtifact(gpu('7.5', '10.9.0'), all, CACHE)).toMatchObject({ rung: 'hardware-compatible', artifact: sameCc });
    expect(resolveArtifact(gpu('7.0', '10.9.0'), all, CACHE).rung).toBe('timing-cache');
  });

  test('4. the timing cache (+ ONNX) when no engine fits, the ONNX alone without a cache', () => {
    // Engines are tied to one exact TensorRT version.
    const cached = resolveArtifact(gpu('8.9', '10.8.0'), all, CACHE);
    expect(cached.rung).toBe('timing-cache');
    expect(cached.artifact).toBeUndefined();
    const bare = resolveArtifact(gpu('8.9', '10.8.0'), all, null);
    expect(bare.rung).toBe('onnx');
    expect(bare.artifact).toBeUndefined();
  });

  test('5. a CPU client: the ONNX Runtime artifact of its target, else the ONNX', () => {
    expect(resolveArtifact({ kind: 'cpu', targetKey: 'ort1.30.0-x86_64-avx2' }, all, null)).toMatchObject({ rung: 'cpu', artifact: cpu });
    expect(resolveArtifact({ kind: 'cpu', targetKey: 'ort1.30.0-x86_64-avx512' }, all, null).rung).toBe('onnx');
  });

  test('precision: an engine\'s narrowest format; fp32 also takes a default (TF32) engine', () => {
    expect(cc.traits).toEqual({ precision: 'fp16' });
    expect(sku.traits).toEqual({ precision: 'tf32' });
    expect(cpu.traits).toEqual({});
    expect(resolveArtifact(gpu('8.9', '10.9.0', 'nvidia-geforce-rtx-4080', 'fp16'), all, CACHE)).toMatchObject({ rung: 'same-cc', artifact: cc });
    expect(resolveArtifact(gpu('8.9', '10.9.0', undefined, 'fp32'), [cc, sku], CACHE)).toMatchObject({ rung: 'same-cc', artifact: sku });
    expect(resolveArtifact(gpu('8.9', '10.9.0', undefined, 'int8'), all, CACHE).rung).toBe('timing-cache');
  });

  test('an engine that failed validation is never served', () => {
    const failed = published('trt10.9.0-sm80', {}, 'fail');
    expect(resolveArtifact(gpu('8.0', '10.9.0'), [failed], CACHE).rung).toBe('timing-cache');
  });
});

describe('the whole ladder: platforms, version-compatible engines, the CPU artifact for a GPU client', () => {
  const vc = { tensorrt: { versionCompatible: true } };
  const x86Cc = published('trt10.9.0-sm90');
  const armSku = published('trt10.9.0-linux-aarch64-sm90-nvidia-gh200-480gb');
  const armCc = published('trt10.9.0-linux-aarch64-sm90');
  const winCc = published('trt10.9.0-windows-x86_64-sm89');
  const vc107 = published('trt10.7.0-sm89', vc);
  const vc103 = published('trt10.3.0-sm89', vc);
  const vc103Ampere = published('trt10.3.0-sm86-ampere+', vc);
  const plain108 = published('trt10.8.0-sm89');
  const vc86 = published('trt8.6.1-sm89', vc);
  const vcArm = published('trt10.3.0-linux-aarch64-sm90', vc);
  const vcFp16 = published('trt10.5.0-sm75', { tensorrt: { versionCompatible: true, precision: ['fp16'] } });
  const cpu = published('ort1.30.0-x86_64-avx2');
  const armCpu = published('ort1.30.0-aarch64-neon');
  const failedVc = published('trt10.8.0-sm80', vc, 'fail');
  const all = [x86Cc, armSku, armCc, winCc, vc107, vc103, vc103Ampere, plain108, vc86, vcArm, vcFp16, cpu, armCpu, failedVc];

  type Row = [name: string, client: Client, cache: boolean, rung: string, artifact: PublishedArtifact | undefined];
  const gh200: Client = { kind: 'gpu', cc: '9.0', trt: '10.9.0', sku: 'nvidia-gh200-480gb', platform: 'linux-aarch64' };
  const rows: Row[] = [
    ['exact SKU on its platform', gh200, true, 'exact-sku', armSku],
    ['another SKU of the CC on aarch64', { ...gh200, sku: 'nvidia-jetson-thor' }, true, 'same-cc', armCc],
    ['x86_64 (the default platform) never gets the aarch64 engine', { kind: 'gpu', cc: '9.0', trt: '10.9.0', sku: 'nvidia-gh200-480gb' }, true, 'same-cc', x86Cc],
    ['Windows gets the Windows engine', { kind: 'gpu', cc: '8.9', trt: '10.9.0', platform: 'windows-x86_64' }, true, 'same-cc', winCc],
    ['Linux never gets the Windows engine: the newest earlier version-compatible one', { kind: 'gpu', cc: '8.9', trt: '10.9.0' }, true, 'version-compatible', vc107],
    ['a version-compatible engine only loads on later releases, not earlier', { kind: 'gpu', cc: '8.9', trt: '10.5.0' }, true, 'version-compatible', vc103],
    ['nor on the release that built it unless it is the exact-version engine', { kind: 'gpu', cc: '8.9', trt: '10.3.0' }, true, 'same-cc', vc103],
    ['a plain engine of an earlier release is never offered', { kind: 'gpu', cc: '8.9', trt: '10.8.1' }, true, 'version-compatible', vc107],
    ['never across majors: TensorRT 8.6 engines are not for 10.x, nor 10.x for 11', { kind: 'gpu', cc: '8.9', trt: '11.0.0' }, true, 'timing-cache', undefined],
    ['version-compatible for 8.6 within major 8', { kind: 'gpu', cc: '8.9', trt: '8.6.2' }, true, 'version-compatible', vc86],
    ['version-compatible and ampere+ together, on another CC', { kind: 'gpu', cc: '8.0', trt: '10.9.0' }, true, 'version-compatible', vc103Ampere],
    ['version-compatible on aarch64 only for aarch64', { kind: 'gpu', cc: '9.0', trt: '10.5.0', platform: 'linux-aarch64' }, true, 'version-compatible', vcArm],
    ['precision honoured on the version-compatible rung', { kind: 'gpu', cc: '7.5', trt: '10.9.0', precision: 'fp16' }, true, 'version-compatible', vcFp16],
    ['a precision no engine has falls through', { kind: 'gpu', cc: '7.5', trt: '10.9.0', precision: 'int8' }, true, 'timing-cache', undefined],
    ['a failed engine is never offered', { kind: 'gpu', cc: '8.0', trt: '10.9.0', platform: 'windows-x86_64' }, false, 'onnx', undefined],
    ['a GPU client with nothing better gets its CPU artifact', { kind: 'gpu', cc: '7.0', trt: '10.9.0', cpuTargetKey: 'ort1.30.0-x86_64-avx2' }, false, 'cpu', cpu],
    ['the timing cache comes before the CPU artifact', { kind: 'gpu', cc: '7.0', trt: '10.9.0', cpuTargetKey: 'ort1.30.0-x86_64-avx2' }, true, 'timing-cache', undefined],
    ['a CPU artifact for another ISA is not the client\'s', { kind: 'gpu', cc: '7.0', trt: '10.9.0', cpuTargetKey: 'ort1.30.0-x86_64-avx512' }, false, 'onnx', undefined],
    ['a CPU client on aarch64', { kind: 'cpu', targetKey: 'ort1.30.0-aarch64-neon' }, false, 'cpu', armCpu],
    ['a CPU client on Windows does not get the Linux artifact', { kind: 'cpu', targetKey: 'ort1.30.0-windows-x86_64-avx2' }, false, 'onnx', undefined],
  ];
  test.each(rows)('%s', (_name, client, cache, rung, artifact) => {
    const resolution = resolveArtifact(client, all, cache ? CACHE : null);
    expect(resolution.rung).toBe(rung);
    expect(resolution.artifact).toBe(artifact);
  });

  test('each rung says why, naming the platform when nothing fits', () => {
    expect(resolveArtifact({ kind: 'gpu', cc: '8.9', trt: '10.9.0' }, all, CACHE).note).toBe(
      'Version-compatible engine built by TensorRT 10.7.0; load it with host code allowed (trtexec --versionCompatible, IRuntime::setEngineHostCodeAllowed)',
    );
    expect(resolveArtifact({ kind: 'gpu', cc: '7.0', trt: '10.9.0', platform: 'linux-aarch64' }, all, null).note).toBe(
      'No engine and no timing cache for TensorRT 10.9.0 on CC 7.0 (linux-aarch64); build locally from the ONNX',
    );
  });

  test('only version-compatible builds carry the trait', () => {
    expect(vc107.traits).toEqual({ precision: 'tf32', versionCompatible: 'true' });
    expect(plain108.traits).toEqual({ precision: 'tf32' });
  });
});
