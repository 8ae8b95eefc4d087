/**
 * The resolution ladder as a function: which published artifact a client gets, and why the rungs
 * above did not match. The farm suite checks the same rungs through the API.
 */
import { makeBuildSpec } from '../../src/core/build-spec';
import type { Manifest } from '../../src/core/manifest';
import { BuildOptionsSchema, type BuildOptionsInput } from '../../src/core/options';
import { summarize, type PublishedArtifact } from '../../src/core/published-artifact';
import { resolveArtifact, type Client } from '../../src/core/resolve';
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
    expect(resolveArtifact(gpu('8.9', '10.9.0', 'nvidia-geforce-rtx-4080'), all, true)).toMatchObject({ rung: 'exact-sku', artifact: sku, note: 'Engine built on a nvidia-geforce-rtx-4080' });
  });

  test('2. same CC: the CC-wide engine first, another SKU of the CC when that is all there is', () => {
    expect(resolveArtifact(gpu('8.9', '10.9.0', 'nvidia-geforce-rtx-4090'), all, true)).toMatchObject({ rung: 'same-cc', artifact: cc });
    expect(resolveArtifact(gpu('8.9', '10.9.0'), [sku], true)).toMatchObject({ rung: 'same-cc', artifact: sku, note: 'Engine built for compute capability 8.9 on a nvidia-geforce-rtx-4080' });
  });

  test('3. hardware-compatible: ampere+ for CC >= 8.0, same-cc only for its own CC', () => {
    expect(resolveArtifact(gpu('9.0', '10.9.0'), all, true)).toMatchObject({ rung: 'hardware-compatible', artifact: ampere });
    expect(resolveArtifact(gpu('7.5', '10.9.0'), all, true)).toMatchObject({ rung: 'hardware-compatible', artifact: sameCc });
    expect(resolveArtifact(gpu('7.0', '10.9.0'), all, true).rung).toBe('timing-cache');
  });

  test('4. the timing cache (+ ONNX) when no engine fits, the ONNX alone without a cache', () => {
    // Engines are tied to one exact TensorRT version.
    const cached = resolveArtifact(gpu('8.9', '10.8.0'), all, true);
    expect(cached.rung).toBe('timing-cache');
    expect(cached.artifact).toBeUndefined();
    const bare = resolveArtifact(gpu('8.9', '10.8.0'), all, false);
    expect(bare.rung).toBe('onnx');
    expect(bare.artifact).toBeUndefined();
  });

  test('5. a CPU client: the ONNX Runtime artifact of its target, else the ONNX', () => {
    expect(resolveArtifact({ kind: 'cpu', targetKey: 'ort1.30.0-x86_64-avx2' }, all, false)).toMatchObject({ rung: 'cpu', artifact: cpu });
    expect(resolveArtifact({ kind: 'cpu', targetKey: 'ort1.30.0-x86_64-avx512' }, all, false).rung).toBe('onnx');
  });

  test('precision: an engine\'s narrowest format; fp32 also takes a default (TF32) engine', () => {
    expect(cc.traits).toEqual({ precision: 'fp16' });
    expect(sku.traits).toEqual({ precision: 'tf32' });
    expect(cpu.traits).toEqual({});
    expect(resolveArtifact(gpu('8.9', '10.9.0', 'nvidia-geforce-rtx-4080', 'fp16'), all, true)).toMatchObject({ rung: 'same-cc', artifact: cc });
    expect(resolveArtifact(gpu('8.9', '10.9.0', undefined, 'fp32'), [cc, sku], true)).toMatchObject({ rung: 'same-cc', artifact: sku });
    expect(resolveArtifact(gpu('8.9', '10.9.0', undefined, 'int8'), all, true).rung).toBe('timing-cache');
  });

  test('an engine that failed validation is never served', () => {
    const failed = published('trt10.9.0-sm80', {}, 'fail');
    expect(resolveArtifact(gpu('8.0', '10.9.0'), [failed], true).rung).toBe('timing-cache');
  });
});
