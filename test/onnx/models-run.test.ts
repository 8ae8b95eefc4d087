import * as ort from 'onnxruntime-node';
import { createRng } from '../models/prng';
import { intInputModel, mobilenetV2, resnet18, symbolicDimsModel, tinyAdd, tinyConv, tinyMlp } from '../models';

/** Every generated model must load and run in real ONNX Runtime, with finite, non-trivial outputs. */

type Feeds = Record<string, ort.Tensor>;

function randomFloats(dims: number[], seed = 7): ort.Tensor {
  const rng = createRng(seed);
  const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1));
  return new ort.Tensor('float32', data, dims);
}

async function run(model: Buffer, feeds: Feeds): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(model);
  try {
    const outputs = await session.run(feeds);
    expect(session.outputNames).toHaveLength(1);
    return outputs[session.outputNames[0]];
  } finally {
    await session.release();
  }
}

function expectUseful(output: ort.Tensor, dims: number[]): void {
  expect(output.dims).toEqual(dims);
  const values = Array.from(output.data as Float32Array);
  expect(values.every(Number.isFinite)).toBe(true);
  expect(values.some((v) => v !== 0)).toBe(true);
}

describe('generated models run in onnxruntime-node', () => {
  test('tinyAdd adds its inputs', async () => {
    const a = randomFloats([3, 4], 1);
    const b = randomFloats([3, 4], 2);
    const sum = await run(tinyAdd(), { a, b });
    expect(sum.dims).toEqual([3, 4]);
    const expected = (a.data as Float32Array).map((v, i) => v + (b.data as Float32Array)[i]);
    expect(Array.from(sum.data as Float32Array)).toEqual(Array.from(expected));
  });

  test.each([true, false])('tinyMlp (dynamicBatch %s)', async (dynamicBatch) => {
    const batch = dynamicBatch ? 5 : 1;
    expectUseful(await run(tinyMlp({ dynamicBatch }), { x: randomFloats([batch, 8]) }), [batch, 4]);
  });

  test('tinyConv', async () => {
    expectUseful(await run(tinyConv(), { x: randomFloats([2, 3, 16, 16]) }), [2, 10]);
  });

  test('intInputModel gathers embeddings for ids in [0, 16)', async () => {
    const ids = new ort.Tensor('int64', BigInt64Array.from([0, 1, 2, 15, 7, 3, 4, 4, 9, 10, 11, 12].map(BigInt)), [2, 6]);
    expectUseful(await run(intInputModel(), { ids }), [2, 6, 8]);
  });

  test('symbolicDimsModel takes any sequence length', async () => {
    expectUseful(await run(symbolicDimsModel(), { x: randomFloats([2, 5, 8]) }), [2, 5, 4]);
    expectUseful(await run(symbolicDimsModel(), { x: randomFloats([1, 9, 8]) }), [1, 9, 4]);
  });

  test('resnet18 (narrow, small images)', async () => {
    const model = resnet18({ width: 8, imageSize: 32, classes: 10 });
    expectUseful(await run(model, { input: randomFloats([2, 3, 32, 32]) }), [2, 10]);
  });

  test('mobilenetV2 (narrow, small images, static batch)', async () => {
    const model = mobilenetV2({ widthMultiplier: 0.25, imageSize: 32, classes: 10, dynamicBatch: false });
    expectUseful(await run(model, { input: randomFloats([1, 3, 32, 32]) }), [1, 10]);
  });

  test('the same seed writes the same bytes; another seed other weights', () => {
    expect(tinyConv({ seed: 3 }).equals(tinyConv({ seed: 3 }))).toBe(true);
    expect(tinyConv({ seed: 3 }).equals(tinyConv({ seed: 4 }))).toBe(false);
    expect(resnet18({ width: 4, imageSize: 32, classes: 5, seed: 1 }).equals(resnet18({ width: 4, imageSize: 32, classes: 5, seed: 1 }))).toBe(true);
  });
});
