/**
 * Every optimization profile is validated on its own (trtexec --useProfile=N), against the trtexec
 * stand-in (a test double, not TensorRT): an engine with two profiles of different batch ranges
 * reports each profile's shapes, inputs and isclose figures.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKeyOf, makeBuildSpec } from '../../src/core/build-spec';
import { readModelInfo } from '../../src/core/onnx/read-model';
import { BuildOptionsSchema } from '../../src/core/options';
import { parseTargetKey } from '../../src/core/target';
import { FsStore } from '../../src/storage/fs-store';
import { createTensorRtToolchain } from '../../src/worker/toolchains/tensorrt';
import type { StepContext } from '../../src/worker/toolchains/toolchain';
import { tinyConv, writeModel } from '../models';
import { RTX_4080, standinTrtexec } from './gpu-standin';

const range = (min: number, opt: number, max: number) => ({ x: { min: [min, 3, 16, 16], opt: [opt, 3, 16, 16], max: [max, 3, 16, 16] } });

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kiln-trt-profiles-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

test('two profiles: each validated at shapes it accepts', async () => {
  const store = new FsStore(join(root, 'store'));
  const trtexec = await standinTrtexec(root, 'bin', RTX_4080);
  const tc = createTensorRtToolchain({ store, gpu: RTX_4080.gpu, trtexec, device: 0, killGraceMs: 500 });
  await tc.detect();
  const modelPath = await writeModel(tinyConv(), join(root, 'model'), 'model.onnx');
  const workDir = join(root, 'work');
  await mkdir(workDir);
  const options = BuildOptionsSchema.parse({
    benchmark: { maxBatch: 4, warmup: 0, iterations: 5 },
    tensorrt: { profiles: [range(1, 1, 2), range(4, 4, 8)] },
  });
  const model = await readModelInfo(modelPath);
  const spec = makeBuildSpec(model.sha256, parseTargetKey('trt10.9.0-sm89'), options);
  const logs: string[] = [];
  const ctx: StepContext = { buildKey: buildKeyOf(spec), spec, model, modelPath, workDir, signal: new AbortController().signal, progress: () => {}, log: (l) => logs.push(l) };

  const built = await tc.build(ctx);
  const validation = await tc.validate(ctx, built);
  expect(validation.verdict).toBe('pass');
  expect(validation.profiles?.map((p) => [p.index, p.verdict, p.inputs.x.dims, p.shapes])).toEqual([
    [0, 'pass', [1, 3, 16, 16], range(1, 1, 2)],
    [1, 'pass', [4, 3, 16, 16], range(4, 4, 8)],
  ]);
  for (const p of validation.profiles!) expect(p.outputs[0]).toMatchObject({ name: 'logits', mismatched: 0, elements: expect.any(Number) });
  expect(validation.profiles![1].outputs[0].elements).toBe(4 * validation.profiles![0].outputs[0].elements);
  expect(logs.filter((l) => l.startsWith('trtexec pid ') && l.includes('--loadInputs=')).map((l) => /--useProfile=\d+/.exec(l)?.[0] ?? null)).toEqual([null, '--useProfile=1']);
});
