import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { batchSizes } from '../../src/worker/toolchains/onnxruntime/benchmark';
import { onnxRuntimeToolchain } from '../../src/worker/toolchains/onnxruntime';
import { GraphBuilder, intInputModel, tinyConv, tinyMlp } from '../models';
import { useContexts } from './context';

const context = useContexts();

/** Declares a dynamic batch, but reshapes to a fixed batch of 1 (as some exports do). */
function falselyDynamicModel(): Buffer {
  const g = new GraphBuilder();
  const x = g.input('x', 'float', ['batch', 4]);
  g.node('Reshape', [x, g.initializer('shape', [2], BigInt64Array.from([1n, 4n]))], {}, 'y');
  g.output('y', 'float', ['batch', 4]);
  return g.toModel({ graphName: 'falsely_dynamic' });
}

// The shared toolchain's optimiser process outlives a build; end it with the suite.
afterAll(() => onnxRuntimeToolchain.close?.());

describe('batchSizes', () => {
  test('powers of two below maxBatch, then maxBatch', () => {
    expect(batchSizes(1)).toEqual([1]);
    expect(batchSizes(4)).toEqual([1, 2, 4]);
    expect(batchSizes(6)).toEqual([1, 2, 4, 6]);
  });
});

describe('onnxRuntimeToolchain.benchmark', () => {
  test('a dynamic batch is measured at 1, 2 and 4 with sane numbers', async () => {
    const ctx = await context(tinyConv(), { benchmark: { maxBatch: 4, warmup: 1, iterations: 5 } });
    const built = await onnxRuntimeToolchain.build(ctx);
    ctx.percents.length = 0;
    const report = await onnxRuntimeToolchain.benchmark(ctx, built);
    expect(report.dynamicBatch).toBe(true);
    expect(report.rows.map((row) => row.batch)).toEqual([1, 2, 4]);
    for (const row of report.rows) {
      const { min, median, p90, p99, max, mean } = row.latencyMs;
      expect(row.iterations).toBe(5);
      expect(min).toBeGreaterThan(0);
      expect(min).toBeLessThanOrEqual(median);
      expect(median).toBeLessThanOrEqual(p90);
      expect(p90).toBeLessThanOrEqual(p99);
      expect(p99).toBeLessThanOrEqual(max);
      expect(mean).toBeGreaterThanOrEqual(min);
      expect(mean).toBeLessThanOrEqual(max);
      // Runs per second cannot beat the fastest run, nor trail the slowest.
      expect(row.throughputQps).toBeLessThanOrEqual(1000 / min + 1e-9);
      expect(row.throughputQps).toBeGreaterThanOrEqual(1000 / max - 1e-9);
      expect(row.throughputSps).toBeCloseTo(row.throughputQps * row.batch, 6);
      expect(row.memoryBytes).toBeGreaterThan(10 * 2 ** 20);
    }
    expect(ctx.percents[0]).toBe(0);
    expect(ctx.percents[ctx.percents.length - 1]).toBe(100);
    expect([...ctx.percents].sort((a, b) => a - b)).toEqual(ctx.percents);
    expect(new Set(ctx.percents).size).toBe(ctx.percents.length);
    expect(ctx.logs.filter((line) => line.startsWith('benchmark batch '))).toHaveLength(3);
  });

  test('the reference is measured at the same batch sizes and threads, and the speed-up is their median ratio', async () => {
    const ctx = await context(tinyConv(), { benchmark: { maxBatch: 2, warmup: 1, iterations: 5 } });
    const report = await onnxRuntimeToolchain.benchmark(ctx, await onnxRuntimeToolchain.build(ctx));
    expect(report.reference?.name).toBe('onnxruntime-cpu (optimizations disabled)');
    expect(report.reference?.rows.map((row) => row.batch)).toEqual([1, 2]);
    expect(report.speedup?.map((s) => s.batch)).toEqual([1, 2]);
    for (const s of report.speedup ?? []) {
      const row = report.rows.find((r) => r.batch === s.batch)!;
      const ref = report.reference!.rows.find((r) => r.batch === s.batch)!;
      expect(s.medianMs).toBe(row.latencyMs.median);
      expect(s.referenceMedianMs).toBe(ref.latencyMs.median);
      expect(s.speedup).toBeCloseTo(ref.latencyMs.median / row.latencyMs.median, 2);
    }
    const conditions = report.conditions!;
    expect(conditions.threads).toBe(availableParallelism());
    expect(conditions.host?.cores).toBeGreaterThan(0);
    expect(conditions.host?.seconds).toBeGreaterThan(0);
    // On a shared machine either answer can be right; what matters is that it follows the reasons.
    expect(conditions.quality).toBe(conditions.reasons.length > 0 ? 'noisy' : 'clean');
    expect(ctx.logs.filter((line) => line.startsWith('reference batch '))).toHaveLength(2);
    expect(ctx.logs.some((line) => line.startsWith('speed-up over the reference: batch 1 '))).toBe(true);

    // The profiled pass leaves its per-node times in the work dir for the pipeline to publish.
    const profile = JSON.parse(await readFile(join(ctx.workDir, 'layer-profile.json'), 'utf8'));
    expect(profile).toMatchObject({ schema: 1, source: 'onnxruntime-profiler', batch: 1, runs: 10 });
    expect(profile.layers.length).toBeGreaterThan(2);
    expect(profile.layers.map((l: { opType: string }) => l.opType)).toContain('Gemm');
    const shares = profile.layers.reduce((sum: number, l: { share: number }) => sum + l.share, 0);
    expect(shares).toBeCloseTo(1, 6);
    expect(profile.layers[0].ms).toBeGreaterThanOrEqual(profile.layers[profile.layers.length - 1].ms);
  });

  test("a fixed batch is measured at the model's own batch only", async () => {
    const ctx = await context(tinyMlp({ dynamicBatch: false }), { benchmark: { maxBatch: 8, warmup: 0, iterations: 2 } });
    const report = await onnxRuntimeToolchain.benchmark(ctx, await onnxRuntimeToolchain.build(ctx));
    expect(report.dynamicBatch).toBe(false);
    expect(report.rows.map((row) => row.batch)).toEqual([1]);
  });

  test('integer inputs keep their validation ranges at every batch size', async () => {
    // Ids from [0, 10) by default would be valid too; [0, 16) is the whole table, [16, 17) is out of it.
    const ok = await context(intInputModel(), { benchmark: { maxBatch: 2, warmup: 0, iterations: 1 }, validation: { inputRanges: { ids: [15, 16] } } });
    expect((await onnxRuntimeToolchain.benchmark(ok, await onnxRuntimeToolchain.build(ok))).rows).toHaveLength(2);
    const bad = await context(intInputModel(), { benchmark: { maxBatch: 2, warmup: 0, iterations: 1 }, validation: { inputRanges: { ids: [16, 17] } } });
    await expect(onnxRuntimeToolchain.benchmark(bad, await onnxRuntimeToolchain.build(bad))).rejects.toThrow(
      /^ONNX Runtime could not run the built model.optimized.onnx at batch 1 on inputs ids: int64\[1, 6\]: .*out of data bounds/,
    );
  });

  test('a batch size the model cannot run at is bad input that points at maxBatch', async () => {
    const ctx = await context(falselyDynamicModel(), { benchmark: { maxBatch: 4, warmup: 0, iterations: 1 } });
    await expect(onnxRuntimeToolchain.benchmark(ctx, await onnxRuntimeToolchain.build(ctx))).rejects.toThrow(
      /^ONNX Runtime could not run the built model.optimized.onnx at batch 2 on inputs x: float\[2, 4\]: .*; set options.benchmark.maxBatch to the largest batch the model runs at$/s,
    );
  });

  test('an abort stops the benchmark before its next run', async () => {
    const controller = new AbortController();
    const ctx = await context(tinyMlp(), { benchmark: { maxBatch: 8, warmup: 0, iterations: 100_000 } }, { signal: controller.signal });
    const built = await onnxRuntimeToolchain.build(ctx);
    const reason = new Error('build cancelled');
    const started = Date.now();
    const benchmarking = onnxRuntimeToolchain.benchmark({
      ...ctx,
      progress: (percent) => {
        if (percent >= 1) controller.abort(reason);
      },
    }, built);
    await expect(benchmarking).rejects.toBe(reason);
    // 400k runs would take far longer; stopping at 1% of them is quick.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
