import { onnxRuntimeToolchain } from '../../src/worker/toolchains/onnxruntime';
import type { BuildOutput } from '../../src/worker/toolchains/toolchain';
import { BuildInputError } from '../../src/worker/toolchains/toolchain';
import { intInputModel, resnet18, symbolicDimsModel, tinyAdd, tinyConv, writeModel } from '../models';
import { useContexts, type TestContext } from './context';

const context = useContexts();

/** What build returns, pointing at any model file: lets a test choose the candidate. */
function builtAt(path: string): BuildOutput {
  return { primary: { name: 'model.optimized.onnx', path, role: 'model' }, extra: [], details: {}, warnings: [] };
}

async function buildAndValidate(ctx: TestContext) {
  const built = await onnxRuntimeToolchain.build(ctx);
  return onnxRuntimeToolchain.validate(ctx, built);
}

// The shared toolchain's optimiser process outlives a build; end it with the suite.
afterAll(() => onnxRuntimeToolchain.close?.());

describe('onnxRuntimeToolchain.validate', () => {
  test("tinyConv optimised at 'all' matches the unoptimised original", async () => {
    const ctx = await context(tinyConv());
    const report = await buildAndValidate(ctx);
    expect(report).toMatchObject({
      verdict: 'pass',
      reference: 'onnxruntime-cpu (optimizations disabled)',
      rtol: 1e-3,
      atol: 1e-5,
      seed: 0,
      failRatio: 0.01,
      inputs: { x: { dims: [1, 3, 16, 16], type: 'float', source: 'seeded' } },
    });
    expect(report.outputs).toEqual([
      expect.objectContaining({ name: 'logits', elements: 10, mismatched: 0, nonFinite: 0, verdict: 'pass' }),
    ]);
    // Fused and re-laid-out kernels sum in another order: small errors, but rarely none at all.
    expect(report.outputs[0].maxAbsError).toBeLessThan(1e-4);
    expect(ctx.percents.slice(-3)).toEqual([0, 50, 100]);
  });

  test('a small ResNet-18 optimised at all passes with tiny errors', async () => {
    const ctx = await context(resnet18({ width: 8, imageSize: 32, classes: 10 }), { validation: { seed: 7 } });
    const report = await buildAndValidate(ctx);
    expect(report.verdict).toBe('pass');
    expect(report.seed).toBe(7);
    expect(report.inputs.input.dims).toEqual([1, 3, 32, 32]);
    expect(report.outputs[0].maxRelError).toBeLessThan(1e-3);
  });

  test('a candidate with other weights fails; with failRatio 1 it warns', async () => {
    const ctx = await context(tinyConv({ seed: 1 }));
    const impostor = builtAt(await writeModel(tinyConv({ seed: 2 }), ctx.workDir, 'impostor.onnx'));
    const report = await onnxRuntimeToolchain.validate(ctx, impostor);
    expect(report.verdict).toBe('fail');
    expect(report.outputs[0].mismatchRatio).toBeGreaterThan(0.5);
    expect(report.outputs[0].maxAbsError).toBeGreaterThan(1e-3);

    const lenient = await context(tinyConv({ seed: 1 }), { validation: { failRatio: 1 } });
    expect((await onnxRuntimeToolchain.validate(lenient, impostor)).verdict).toBe('warn');
  });

  test('user tolerances replace the defaults', async () => {
    const ctx = await context(tinyConv({ seed: 1 }), { validation: { rtol: 10, atol: 10 } });
    const impostor = builtAt(await writeModel(tinyConv({ seed: 2 }), ctx.workDir, 'impostor.onnx'));
    const report = await onnxRuntimeToolchain.validate(ctx, impostor);
    expect(report).toMatchObject({ verdict: 'pass', rtol: 10, atol: 10 });
  });

  test('integer inputs respect inputRanges: ids beyond the embedding table are refused by the reference', async () => {
    const ok = await context(intInputModel(), { validation: { inputRanges: { ids: [0, 16] } } });
    expect((await buildAndValidate(ok)).verdict).toBe('pass');
    const outOfRange = await context(intInputModel(), { validation: { inputRanges: { ids: [16, 32] } } });
    const err = await buildAndValidate(outOfRange).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildInputError);
    expect((err as Error).message).toMatch(/^ONNX Runtime could not run the original model on inputs ids: int64\[1, 6\]: .*check options.shapes and options.validation$/s);
  });

  test("user tensors are used, and fix their input's shape", async () => {
    const a = { dims: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] };
    const ctx = await context(tinyAdd(), { validation: { inputs: { a } } });
    const report = await buildAndValidate(ctx);
    expect(report.verdict).toBe('pass');
    // b has no tensor of its own: its batch follows a's through the shared 'batch' dim.
    expect(report.inputs).toEqual({
      a: { dims: [2, 4], type: 'float', source: 'user' },
      b: { dims: [2, 4], type: 'float', source: 'seeded' },
    });
    expect(report.outputs[0].elements).toBe(8);
  });

  test('a symbolic dim without a shape is bad input naming the input and the option; with one it runs', async () => {
    const missing = await context(symbolicDimsModel());
    const built = await onnxRuntimeToolchain.build(missing);
    await expect(onnxRuntimeToolchain.validate(missing, built)).rejects.toThrow(
      new BuildInputError('input "x" [batch, seq, 8] has symbolic dims [seq]: give its shape, e.g. --shapes x=1x128x8 (options.shapes: { "x": [1, 128, 8] })'),
    );
    const given = await context(symbolicDimsModel(), { shapes: { x: [1, 5, 8] } });
    const report = await buildAndValidate(given);
    expect(report.verdict).toBe('pass');
    expect(report.inputs.x.dims).toEqual([1, 5, 8]);
  });
});
