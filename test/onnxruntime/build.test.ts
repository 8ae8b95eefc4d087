import { readFile, stat } from 'node:fs/promises';
import { InferenceSession } from 'onnxruntime-node';
import { parseTargetKey } from '../../src/core/target';
import { onnxRuntimeToolchain } from '../../src/worker/toolchains/onnxruntime';
import { localTargetKey } from '../../src/worker/toolchains/onnxruntime/detect';
import { BuildInputError } from '../../src/worker/toolchains/toolchain';
import { GraphBuilder, tinyConv } from '../models';
import { useContexts } from './context';

const context = useContexts();

/** A well-formed ONNX file that ONNX Runtime refuses: its only node is an operator nobody defines. */
function unknownOpModel(): Buffer {
  const g = new GraphBuilder();
  const x = g.input('x', 'float', ['batch', 4]);
  g.node('NoSuchOp', [x], {}, 'y');
  g.output('y', 'float', ['batch', 4]);
  return g.toModel({ graphName: 'unknown_op' });
}

// The shared toolchain's optimiser process outlives a build; end it with the suite.
afterAll(() => onnxRuntimeToolchain.close?.());

describe('onnxRuntimeToolchain.build', () => {
  test("level 'all' writes model.optimized.onnx that ONNX Runtime loads, and passes on ORT's hardware warning", async () => {
    const ctx = await context(tinyConv());
    const built = await onnxRuntimeToolchain.build(ctx);
    expect(built.primary).toEqual({ name: 'model.optimized.onnx', path: `${ctx.workDir}/model.optimized.onnx`, role: 'model' });
    expect((await stat(built.primary.path)).size).toBeGreaterThan(0);
    expect(built.details).toMatchObject({ graphOptimizationLevel: 'all', nodes: { original: ctx.model.nodeCount } });
    // Conv + BN + Relu fuse: the optimised graph is smaller than the original.
    expect((built.details.nodes as { optimized: number }).optimized).toBeLessThan(ctx.model.nodeCount);
    expect(built.warnings).toEqual([expect.stringMatching(/^ONNX Runtime: .*may contain hardware specific optimizations/)]);
    expect(ctx.logs.some((line) => line.includes('hardware specific optimizations'))).toBe(true);
    expect(ctx.percents[0]).toBe(0);
    expect(ctx.percents[ctx.percents.length - 1]).toBe(100);
    // ONNX Runtime imports every domain it knows (ai.onnx.ml, org.pytorch.aten, ...) into the file;
    // the report names only the ones the optimised graph's operators use.
    const opsets = built.details.opsets as Record<string, number>;
    expect(opsets['']).toBe(17);
    expect(Object.keys(opsets).filter((d) => d !== '' && d !== 'com.microsoft' && d !== 'com.microsoft.nchwc')).toEqual([]);

    const session = await InferenceSession.create(built.primary.path, { graphOptimizationLevel: 'disabled' });
    try {
      expect(session.inputNames).toEqual(['x']);
      expect(session.outputNames).toEqual(['logits']);
    } finally {
      await session.release();
    }
  });

  test("level 'basic' writes a portable model and no hardware warning", async () => {
    const ctx = await context(tinyConv(), { onnxruntime: { graphOptimizationLevel: 'basic' } });
    const built = await onnxRuntimeToolchain.build(ctx);
    expect(built.details.graphOptimizationLevel).toBe('basic');
    expect(built.warnings).toEqual([]);
    expect((await readFile(built.primary.path)).length).toBeGreaterThan(0);
  });

  test('a model ONNX Runtime refuses is bad input (retrying will not help)', async () => {
    const ctx = await context(unknownOpModel());
    const err = await onnxRuntimeToolchain.build(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildInputError);
    expect((err as Error).message).toMatch(/^ONNX Runtime could not load the model: .*NoSuchOp/);
  });

  test('a job for another ISA is refused before building', async () => {
    const local = parseTargetKey(localTargetKey());
    if (local.toolchain !== 'onnxruntime') throw new Error('expected an onnxruntime target');
    const other = { ...local, isa: local.isa === 'avx2' ? ('avx512' as const) : ('avx2' as const) };
    const ctx = await context(tinyConv(), {}, { target: other });
    await expect(onnxRuntimeToolchain.build(ctx)).rejects.toThrow(
      `This worker builds ${localTargetKey()}, not ${ctx.spec.targetKey}; the job reached the wrong queue`,
    );
  });

  test('an abort kills the optimiser and rejects with the abort reason', async () => {
    const controller = new AbortController();
    const ctx = await context(tinyConv(), {}, { signal: controller.signal });
    const reason = new Error('cancelled by user');
    const building = onnxRuntimeToolchain.build(ctx);
    controller.abort(reason);
    await expect(building).rejects.toBe(reason);
    // The worker's optimiser process is replaced (test/onnxruntime/optimizer-process.test.ts); the next build works.
    const next = await context(tinyConv());
    expect((await onnxRuntimeToolchain.build(next)).primary.name).toBe('model.optimized.onnx');
  });
});
