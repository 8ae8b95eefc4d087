/** SKU slugs from real NVML names, and the TensorRT targets (queue keys) a GPU can build. */
import { parseTargetKey, TargetParseError, targetKey, toTarget } from '../../src/core/target';
import { GpuSlugError, gpuSkuSlug } from '../../src/core/gpu-sku';
import { gpuTargets } from '../../src/core/tensorrt/gpu-targets';

// [NVML name, slug, CC] for GPUs of every TensorRT-10 generation.
const GPUS: [string, string, string][] = [
  ['NVIDIA GeForce RTX 3070', 'nvidia-geforce-rtx-3070', '8.6'],
  ['NVIDIA GeForce RTX 4080', 'nvidia-geforce-rtx-4080', '8.9'],
  ['NVIDIA GeForce RTX 4090', 'nvidia-geforce-rtx-4090', '8.9'],
  ['NVIDIA GeForce RTX 5090', 'nvidia-geforce-rtx-5090', '12.0'],
  ['Tesla T4', 'nvidia-tesla-t4', '7.5'],
  ['NVIDIA A10', 'nvidia-a10', '8.6'],
  ['NVIDIA L4', 'nvidia-l4', '8.9'],
  ['NVIDIA H100 80GB HBM3', 'nvidia-h100-80gb-hbm3', '9.0'],
  ['NVIDIA H200', 'nvidia-h200', '9.0'],
  ['Orin (nvgpu)', 'nvidia-orin-nvgpu', '8.7'],
  ['NVIDIA RTX A6000', 'nvidia-rtx-a6000', '8.6'],
  ['NVIDIA RTX 6000 Ada Generation', 'nvidia-rtx-6000-ada-generation', '8.9'],
  ['NVIDIA A100-SXM4-80GB', 'nvidia-a100-sxm4-80gb', '8.0'],
  ['Quadro RTX 8000', 'nvidia-quadro-rtx-8000', '7.5'],
  ['NVIDIA RTX PRO 6000 Blackwell Server Edition', 'nvidia-rtx-pro-6000-blackwell-server-edition', '12.0'],
];

describe('gpuSkuSlug', () => {
  test.each(GPUS)('%s -> %s', (name, slug) => {
    expect(gpuSkuSlug(name)).toBe(slug);
  });

  test('spacing, case and symbols do not change the slug', () => {
    expect(gpuSkuSlug('  nvidia  GeForce® RTX 4080 ')).toBe('nvidia-geforce-rtx-4080');
    expect(gpuSkuSlug('NVIDIA GeForce RTX 3070 Laptop GPU')).toBe('nvidia-geforce-rtx-3070-laptop-gpu');
    expect(gpuSkuSlug('NVIDIAX 1')).toBe('nvidia-nvidiax-1');
  });

  test('a name without letters or digits is an error', () => {
    expect(() => gpuSkuSlug(' ® ')).toThrow(
      new GpuSlugError('Expected a GPU name with letters or digits for name but received " ® "'),
    );
  });
});

describe('gpuTargets', () => {
  test.each(GPUS)('%s: every key parses back to its target', (name, sku, cc) => {
    const targets = gpuTargets({ trt: '10.9.0', cc, sku });
    const all = [targets.cc, targets.sku, ...targets.hwCompat];
    expect(targets.keys.map((key) => parseTargetKey(key))).toEqual(all);
    expect(targets.keys[1]).toBe(`trt10.9.0-sm${cc.replace('.', '')}-${gpuSkuSlug(name)}`);
  });

  test('an Ada GPU on TensorRT 10.9 builds its CC, its SKU, ampere+ and same-cc', () => {
    const targets = gpuTargets({ trt: '10.9.0', cc: '8.9', sku: 'nvidia-geforce-rtx-4080' });
    expect(targets.keys).toEqual([
      'trt10.9.0-sm89',
      'trt10.9.0-sm89-nvidia-geforce-rtx-4080',
      'trt10.9.0-sm89-ampere+',
      'trt10.9.0-sm89-same-cc',
    ]);
    expect(targets.sku).toEqual({
      toolchain: 'tensorrt',
      trt: '10.9.0',
      cc: '8.9',
      sku: 'nvidia-geforce-rtx-4080',
      hwCompat: 'none',
    });
  });

  test('a Turing GPU cannot build ampere+; same-cc needs TensorRT 10.9', () => {
    expect(gpuTargets({ trt: '10.9.0', cc: '7.5', sku: 'nvidia-tesla-t4' }).keys).toEqual([
      'trt10.9.0-sm75',
      'trt10.9.0-sm75-nvidia-tesla-t4',
      'trt10.9.0-sm75-same-cc',
    ]);
    expect(gpuTargets({ trt: '10.8.0', cc: '12.0', sku: 'nvidia-geforce-rtx-5090' }).keys).toEqual([
      'trt10.8.0-sm120',
      'trt10.8.0-sm120-nvidia-geforce-rtx-5090',
      'trt10.8.0-sm120-ampere+',
    ]);
    expect(gpuTargets({ trt: '8.5.3', cc: '8.6', sku: 'nvidia-a10' }).hwCompat).toEqual([]);
    expect(gpuTargets({ trt: '11.0.0', cc: '9.0', sku: 'nvidia-h200' }).keys).toContain('trt11.0.0-sm90-same-cc');
  });

  test('hardware-compatible keys without a SKU parse as such, not as a SKU named ampere+ or same-cc', () => {
    expect(parseTargetKey('trt10.9.0-sm86-ampere+')).toEqual({ toolchain: 'tensorrt', trt: '10.9.0', cc: '8.6', hwCompat: 'ampere+' });
    expect(parseTargetKey('trt10.9.0-sm89-same-cc')).toEqual({ toolchain: 'tensorrt', trt: '10.9.0', cc: '8.9', hwCompat: 'sameComputeCapability' });
  });

  test('hardware compatibility is spelled as trtexec spells it; the key keeps its short suffix, and the old spelling still reads', () => {
    const target = { toolchain: 'tensorrt', trt: '10.9.0', cc: '8.9', hwCompat: 'sameComputeCapability' } as const;
    expect(targetKey(target)).toBe('trt10.9.0-sm89-same-cc');
    expect(toTarget({ ...target, hwCompat: 'same-cc' })).toEqual(target);
    expect(() => toTarget({ ...target, hwCompat: 'same' })).toThrow(TargetParseError);
  });

  test('malformed facts are TargetParseError naming the field', () => {
    expect(() => gpuTargets({ trt: '10.9', cc: '8.9', sku: 'nvidia-l4' })).toThrow(TargetParseError);
    expect(() => gpuTargets({ trt: '10.9', cc: '8.9', sku: 'nvidia-l4' })).toThrow(
      /trt: TensorRT version as major\.minor\.patch/,
    );
    expect(() => gpuTargets({ trt: '10.9.0', cc: '89', sku: 'nvidia-l4' })).toThrow(/cc: compute capability/);
    expect(() => gpuTargets({ trt: '10.9.0', cc: '8.9', sku: 'NVIDIA L4' })).toThrow(/sku: SKU slug/);
  });
});
