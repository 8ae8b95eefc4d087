/**
 * Timing caches per (TensorRT version, platform, CC, GPU SKU), against the trtexec stand-in (a
 * test double, not TensorRT): an RTX 4080 and an L4, both sm89 on TensorRT 10.9, never write each
 * other's cache; the L4's first build is seeded from the 4080's and says so; a CC-wide cache from
 * before per-SKU caches stays readable and is never written.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKeyOf, makeBuildSpec } from '../../src/core/build-spec';
import { readModelInfo } from '../../src/core/onnx/read-model';
import { BuildOptionsSchema } from '../../src/core/options';
import { parseTargetKey } from '../../src/core/target';
import { chooseTimingCache, parseTimingCacheName, timingCacheName, type StoredTimingCache } from '../../src/core/timing-cache';
import { FsStore } from '../../src/storage/fs-store';
import { timingCacheKey } from '../../src/storage/layout';
import { listTimingCaches, timingCacheHistoryKey } from '../../src/storage/timing-caches';
import { createTensorRtToolchain } from '../../src/worker/toolchains/tensorrt';
import type { StepContext, Toolchain } from '../../src/worker/toolchains/toolchain';
import { tinyAdd, tinyConv, tinyMlp, writeModel } from '../models';
import { L4, RTX_4080, standinTrtexec, type PlayedGpu } from './gpu-standin';

const FAST = { benchmark: { maxBatch: 4, warmup: 0, iterations: 5 } };
const RTX_CACHE = { trt: '10.9.0', cc: '8.9', sku: 'nvidia-geforce-rtx-4080' };
const L4_CACHE = { trt: '10.9.0', cc: '8.9', sku: 'nvidia-l4' };
const CC_WIDE = { trt: '10.9.0', cc: '8.9' };

describe('chooseTimingCache', () => {
  const cache = (name: string, sizeBytes: number): StoredTimingCache => ({ scope: parseTimingCacheName(name)!, sizeBytes });
  const caches = [
    cache('trt10.9.0-sm89-nvidia-geforce-rtx-4080', 300),
    cache('trt10.9.0-sm89-nvidia-l4', 100),
    cache('trt10.9.0-sm89', 200),
    cache('trt10.9.0-linux-aarch64-sm89-nvidia-l4', 900),
    cache('trt10.8.0-sm89-nvidia-rtx-6000-ada-generation', 900),
  ];
  const chosen = (want: Parameters<typeof chooseTimingCache>[0]) => {
    const choice = chooseTimingCache(want, caches);
    return choice && [timingCacheName(choice.cache.scope), choice.match];
  };

  test.each([
    ['a SKU gets its own cache, however small', L4_CACHE, ['trt10.9.0-sm89-nvidia-l4', 'sku']],
    ['the platform is part of the SKU\'s cache', { ...L4_CACHE, platform: 'linux-aarch64' as const }, ['trt10.9.0-linux-aarch64-sm89-nvidia-l4', 'sku']],
    ['by CC alone: the largest cache of that TensorRT, platform and CC, flagged', CC_WIDE, ['trt10.9.0-sm89-nvidia-geforce-rtx-4080', 'best-match']],
    ['a SKU without a cache: the best match, flagged', { ...CC_WIDE, sku: 'nvidia-geforce-rtx-4090' }, ['trt10.9.0-sm89-nvidia-geforce-rtx-4080', 'best-match']],
    ['never another TensorRT version', { trt: '10.8.1', cc: '8.9', sku: 'nvidia-l4' }, null],
    ['never another platform', { ...CC_WIDE, platform: 'windows-x86_64' as const }, null],
    ['never another CC', { trt: '10.9.0', cc: '8.6' }, null],
  ])('%s', (_name, want, expected) => {
    expect(chosen(want)).toEqual(expected);
  });

  test('names: a cache is named like its SKU target; a name with a hardware-compatibility suffix is none', () => {
    expect(timingCacheName({ ...L4_CACHE, platform: 'linux-x86_64' })).toBe('trt10.9.0-sm89-nvidia-l4');
    expect(timingCacheKey({ ...L4_CACHE, platform: 'linux-aarch64' })).toBe('timing-caches/trt10.9.0-linux-aarch64-sm89-nvidia-l4.cache');
    expect(timingCacheKey(CC_WIDE)).toBe('timing-caches/trt10.9.0-sm89.cache');
    expect(parseTimingCacheName('trt10.9.0-sm89-ampere+')).toBeNull();
    expect(() => timingCacheKey({ ...CC_WIDE, sku: 'NVIDIA L4' })).toThrow(/sku: SKU slug in lower-case words joined by -/);
  });
});

describe('two SKUs of sm89 never read or write each other\'s cache', () => {
  let root: string;
  let store: FsStore;
  let count = 0;
  let rtx: Toolchain;
  let l4: Toolchain;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'kiln-trt-sku-caches-'));
    store = new FsStore(join(root, 'store'));
    rtx = await toolchain(RTX_4080);
    l4 = await toolchain(L4);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  async function toolchain(played: PlayedGpu): Promise<Toolchain> {
    const trtexec = await standinTrtexec(root, `bin-${count++}`, played);
    const tc = createTensorRtToolchain({ store, gpu: played.gpu, trtexec, device: 0, killGraceMs: 500 });
    await tc.detect();
    return tc;
  }

  async function context(model: Buffer, target: string): Promise<StepContext & { logs: string[] }> {
    const dir = join(root, `ctx-${count++}`);
    const modelPath = await writeModel(model, dir, 'model.onnx');
    const workDir = join(dir, 'work');
    await mkdir(workDir);
    const spec = makeBuildSpec((await readModelInfo(modelPath)).sha256, parseTargetKey(target), BuildOptionsSchema.parse(FAST));
    const logs: string[] = [];
    return { buildKey: buildKeyOf(spec), spec, model: await readModelInfo(modelPath), modelPath, workDir, signal: new AbortController().signal, progress: () => {}, log: (l) => logs.push(l), logs };
  }
  const head = (scope: typeof CC_WIDE & { sku?: string }) => store.head(timingCacheKey(scope));
  const cacheOf = (details: Record<string, unknown>) => details.timingCache as Record<string, unknown>;

  test('the first build of a CC starts empty and writes its own SKU\'s cache only', async () => {
    const out = await rtx.build(await context(tinyConv(), 'trt10.9.0-sm89'));
    expect(cacheOf(out.details)).toMatchObject({ name: 'trt10.9.0-sm89-nvidia-geforce-rtx-4080', loadedBytes: 0, fleet: 'published' });
    expect(cacheOf(out.details).seededFrom).toBeUndefined();
    expect(await head(RTX_CACHE)).not.toBeNull();
    expect(await head(L4_CACHE)).toBeNull();
    expect(await head(CC_WIDE)).toBeNull();
  });

  test('the L4\'s first build is seeded from the 4080\'s cache, says so, and leaves it as it was', async () => {
    const before = (await head(RTX_CACHE))!;
    const c = await context(tinyMlp(), 'trt10.9.0-sm89-same-cc');
    const out = await l4.build(c);
    expect(cacheOf(out.details)).toMatchObject({ name: 'trt10.9.0-sm89-nvidia-l4', loadedBytes: before.size, fleet: 'published', seededFrom: 'trt10.9.0-sm89-nvidia-geforce-rtx-4080' });
    expect(c.logs).toContain(`timing cache: no fleet cache trt10.9.0-sm89-nvidia-l4 yet; starting from trt10.9.0-sm89-nvidia-geforce-rtx-4080 (${before.size} bytes), the best match of CC 8.9`);
    expect((await head(RTX_CACHE))!.etag).toBe(before.etag);
    const history = JSON.parse((await readFile(join(root, 'store', timingCacheHistoryKey(L4_CACHE)))).toString());
    expect(history).toMatchObject({ sku: 'nvidia-l4', platform: 'linux-x86_64', seededFrom: 'trt10.9.0-sm89-nvidia-geforce-rtx-4080', builds: 1, recent: [{ targetKey: 'trt10.9.0-sm89-same-cc' }] });
  });

  test('after that each GPU starts from its own cache and grows only it', async () => {
    const rtxBefore = (await head(RTX_CACHE))!;
    const l4Before = (await head(L4_CACHE))!;
    const fromL4 = await l4.build(await context(tinyAdd(), 'trt10.9.0-sm89-nvidia-l4'));
    expect(cacheOf(fromL4.details)).toMatchObject({ loadedBytes: l4Before.size, fleet: 'published' });
    expect(cacheOf(fromL4.details).seededFrom).toBeUndefined();
    expect((await head(RTX_CACHE))!.etag).toBe(rtxBefore.etag);
    const fromRtx = await rtx.build(await context(tinyMlp({ seed: 4 }), 'trt10.9.0-sm89-ampere+'));
    expect(cacheOf(fromRtx.details)).toMatchObject({ name: 'trt10.9.0-sm89-nvidia-geforce-rtx-4080', loadedBytes: rtxBefore.size });
    // The L4's cache grew from the L4's own build, not the 4080's.
    expect((await head(L4_CACHE))!.size).toBe(cacheOf(fromL4.details).savedBytes);
  });

  test('a CC-wide cache from before per-SKU caches is listed and readable, and never written', async () => {
    await store.put(timingCacheKey(CC_WIDE), Buffer.from('an old CC-wide cache'));
    const old = (await head(CC_WIDE))!;
    const l4Before = (await head(L4_CACHE))!;
    const out = await l4.build(await context(tinyConv({ seed: 5 }), 'trt10.9.0-sm89'));
    expect(cacheOf(out.details)).toMatchObject({ name: 'trt10.9.0-sm89-nvidia-l4', loadedBytes: l4Before.size });
    expect((await head(CC_WIDE))!.etag).toBe(old.etag);
    const listed = await listTimingCaches(store);
    expect(listed.map((c) => [c.name, c.sku, c.seededFrom])).toEqual([
      ['trt10.9.0-sm89', null, null],
      ['trt10.9.0-sm89-nvidia-geforce-rtx-4080', 'nvidia-geforce-rtx-4080', null],
      ['trt10.9.0-sm89-nvidia-l4', 'nvidia-l4', 'trt10.9.0-sm89-nvidia-geforce-rtx-4080'],
    ]);
    expect(listed[0].url).toBe('/v1/timing-caches/trt10.9.0-sm89');
  });
});
