/**
 * The Triton repository as a list of files, and its config.pbtxt parsed against Triton's own
 * model_config.proto with a real text-format parser (test/helpers/triton-config.ts).
 */
import { createHash } from 'node:crypto';
import { readModelInfoFromBuffer, type ModelInfo } from '../../src/core/onnx';
import { maxBatchSizeOf, modelConfigText, TritonConfigError } from '../../src/core/triton/model-config';
import { EXPORT_LISTING, RepositoryError, tritonRepository, type RepositoryEngine } from '../../src/core/triton/repository';
import { parseModelConfig } from '../helpers/triton-config';
import { intInputModel, tinyConv } from '../models';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const profile = (maxBatch: number, minBatch = 1) => [{ x: { min: [minBatch, 3, 16, 16], opt: [1, 3, 16, 16], max: [maxBatch, 3, 16, 16] } }];

function engine(cc: string, trt = '10.3.0', profiles = profile(8)): RepositoryEngine {
  const buildKey = sha(`${cc}/${trt}`);
  return { targetKey: `trt${trt}-sm${cc.replace('.', '')}`, buildKey, cc, trt, file: { name: 'engine.plan', sha256: sha(`engine ${cc}`), size: 1000 + Number(cc.replace('.', '')), role: 'engine' }, profiles };
}

let conv: ModelInfo;
beforeAll(async () => {
  conv = await readModelInfoFromBuffer(tinyConv());
});

const textOf = (files: ReturnType<typeof tritonRepository>, path: string) => {
  const file = files.find((f) => f.path === path)!;
  if (file.source.kind !== 'bytes') throw new Error(`${path} is not made here`);
  return file.source.bytes.toString();
};

describe('tritonRepository', () => {
  test('config.pbtxt maps every CC to its engine, with Triton types, dims and the profiles\' batch size', () => {
    const files = tritonRepository({ name: 'conv', model: conv, engines: [engine('8.6'), engine('8.0', '10.3.0', profile(4))] });
    expect(files.map((f) => f.path)).toEqual([EXPORT_LISTING, 'conv/config.pbtxt', 'conv/1/model.sm80.plan', 'conv/1/model.sm86.plan']);
    expect(parseModelConfig(textOf(files, 'conv/config.pbtxt'))).toEqual({
      name: 'conv',
      platform: 'tensorrt_plan',
      // The smaller of the two engines' largest batch: Triton must not send either more.
      maxBatchSize: 4,
      input: [{ name: 'x', dataType: 'TYPE_FP32', dims: [3, 16, 16] }],
      output: [{ name: 'logits', dataType: 'TYPE_FP32', dims: [10] }],
      ccModelFilenames: { '8.0': 'model.sm80.plan', '8.6': 'model.sm86.plan' },
      defaultModelFilename: '',
    });
    const listing = JSON.parse(textOf(files, EXPORT_LISTING));
    expect(listing).toMatchObject({ schema: 1, model: conv.sha256, name: 'conv', trt: '10.3.0', maxBatchSize: 4 });
    expect(listing.files).toEqual(files.slice(1).map(({ path, sha256, size }) => ({ path, sha256, size })));
    expect(files[2]).toMatchObject({ sha256: sha('engine 8.0'), size: 1080, source: { kind: 'artifact', buildKey: sha('8.0/10.3.0') } });
  });

  test('the ONNX fallback is a second model, onnxruntime_onnx, with the model itself in 1/', () => {
    const files = tritonRepository({ name: 'conv', model: conv, engines: [engine('8.6')], onnxFallback: true });
    expect(files.slice(-2).map((f) => [f.path, f.source.kind])).toEqual([['conv_onnx/config.pbtxt', 'bytes'], ['conv_onnx/1/model.onnx', 'model']]);
    expect(parseModelConfig(textOf(files, 'conv_onnx/config.pbtxt'))).toMatchObject({ name: 'conv_onnx', platform: 'onnxruntime_onnx', maxBatchSize: 8, ccModelFilenames: {} });
  });

  test('no batching when a profile starts above batch 1 or an engine has none: whole shapes, open dims as -1', () => {
    expect(maxBatchSizeOf(conv, [profile(8, 2)])).toBe(0);
    expect(maxBatchSizeOf(conv, [profile(8), null])).toBe(0);
    const text = modelConfigText({ name: 'conv', platform: 'tensorrt_plan', model: conv, maxBatchSize: 0, ccModelFilenames: { '8.9': 'model.sm89.plan' } });
    expect(parseModelConfig(text).input).toEqual([{ name: 'x', dataType: 'TYPE_FP32', dims: [-1, 3, 16, 16] }]);
  });

  test('names with quotes and backslashes survive the text format', async () => {
    const model = { inputs: [{ name: 'in "a"\\b', elementType: 'int64', dims: [2] }], outputs: [{ name: 'out\n', elementType: 'bool', dims: [2] }] };
    const parsed = parseModelConfig(modelConfigText({ name: 'm', platform: 'tensorrt_plan', model, maxBatchSize: 0 }));
    expect(parsed.input).toEqual([{ name: 'in "a"\\b', dataType: 'TYPE_INT64', dims: [2] }]);
    expect(parsed.output).toEqual([{ name: 'out\n', dataType: 'TYPE_BOOL', dims: [2] }]);
    const [ids] = (await readModelInfoFromBuffer(intInputModel())).inputs;
    expect(parseModelConfig(modelConfigText({ name: 'm', platform: 'tensorrt_plan', model: { inputs: [ids], outputs: [] }, maxBatchSize: 0 })).input).toEqual([
      { name: 'ids', dataType: 'TYPE_INT64', dims: [-1, 6] },
    ]);
  });

  test('refuses what one Triton server could not serve, saying what to choose', () => {
    expect(() => tritonRepository({ name: 'conv', model: conv, engines: [engine('8.6'), engine('8.9', '10.9.0')] })).toThrow(
      new RepositoryError('Expected engines of one TensorRT version (a Triton server has one) but received trt10.3.0-sm86 (10.3.0), trt10.9.0-sm89 (10.9.0); choose with targets or trt'),
    );
    expect(() => tritonRepository({ name: 'conv', model: conv, engines: [engine('8.6'), { ...engine('8.6'), targetKey: 'trt10.3.0-sm86-ampere+' }] })).toThrow(
      'Expected one engine per compute capability but received two for 8.6: trt10.3.0-sm86 and trt10.3.0-sm86-ampere+; choose one with targets',
    );
    expect(() => tritonRepository({ name: '../x', model: conv, engines: [engine('8.6')] })).toThrow(
      'Expected a model name of [A-Za-z0-9._-], at most 64 characters, not starting with \'.\' or \'-\', but received "../x"',
    );
    const complex = { inputs: [{ name: 'z', elementType: 'complex64', dims: [2] }], outputs: [] };
    expect(() => modelConfigText({ name: 'm', platform: 'tensorrt_plan', model: complex, maxBatchSize: 0 })).toThrow(TritonConfigError);
  });
});
