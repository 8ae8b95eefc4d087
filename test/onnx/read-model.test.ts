import { createHash } from 'node:crypto';
import { ModelInfo, readModelInfo, readModelInfoFromBuffer } from '../../src/core/onnx';
import { ModelProto } from '../../src/core/onnx/schema';
import { GraphBuilder, intInputModel, mobilenetV2, PRODUCER, resnet18, symbolicDimsModel, tinyAdd, tinyConv, tinyMlp, writeModel } from '../models';
import { useTempDir } from './temp-dir';

const dir = useTempDir();

async function infoOf(bytes: Buffer, name: string): Promise<ModelInfo> {
  return readModelInfo(await writeModel(bytes, dir(), name));
}

describe('readModelInfo', () => {
  test('reports the interface, opsets, producer, size and sha256 of a model', async () => {
    const bytes = tinyMlp();
    expect(await infoOf(bytes, 'mlp.onnx')).toEqual({
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
      irVersion: 8,
      producerName: PRODUCER.name,
      producerVersion: PRODUCER.version,
      opsets: { '': 17 },
      graphName: 'tiny_mlp',
      inputs: [{ name: 'x', elementType: 'float', dims: ['batch', 8] }],
      outputs: [{ name: 'y', elementType: 'float', dims: ['batch', 4] }],
      nodeCount: 4,
      nodeDomains: [''],
      initializerCount: 4,
    });
  });

  test('takes the sha256 from the caller instead of hashing the file again', async () => {
    const path = await writeModel(tinyAdd(), dir(), 'add.onnx');
    expect((await readModelInfo(path, { sha256: 'f'.repeat(64) })).sha256).toBe('f'.repeat(64));
  });

  test('reads a buffer the same way as a file', async () => {
    const bytes = tinyConv();
    expect(await readModelInfoFromBuffer(bytes)).toEqual(await infoOf(bytes, 'conv.onnx'));
  });

  test.each([
    ['tinyAdd', tinyAdd(), [['a', 'float', ['batch', 4]], ['b', 'float', ['batch', 4]]], [['sum', 'float', ['batch', 4]]]],
    ['tinyMlp static', tinyMlp({ dynamicBatch: false }), [['x', 'float', [1, 8]]], [['y', 'float', [1, 4]]]],
    ['tinyConv', tinyConv(), [['x', 'float', ['batch', 3, 16, 16]]], [['logits', 'float', ['batch', 10]]]],
    ['intInputModel', intInputModel(), [['ids', 'int64', ['batch', 6]]], [['embeddings', 'float', ['batch', 6, 8]]]],
    ['symbolicDimsModel', symbolicDimsModel(), [['x', 'float', ['batch', 'seq', 8]]], [['y', 'float', ['batch', 'seq', 4]]]],
    ['resnet18', resnet18({ width: 8, imageSize: 64, classes: 7 }), [['input', 'float', ['batch', 3, 64, 64]]], [['logits', 'float', ['batch', 7]]]],
    ['mobilenetV2', mobilenetV2({ widthMultiplier: 0.25, imageSize: 32, dynamicBatch: false }), [['input', 'float', [1, 3, 32, 32]]], [['logits', 'float', [1, 1000]]]],
  ])('%s inputs and outputs', async (name, bytes, inputs, outputs) => {
    const info = await infoOf(bytes as Buffer, `${name}.onnx`);
    const asTuples = (list: ModelInfo['inputs']) => list.map((t) => [t.name, t.elementType, t.dims]);
    expect(asTuples(info.inputs)).toEqual(inputs);
    expect(asTuples(info.outputs)).toEqual(outputs);
  });

  test('counts ResNet-18 nodes and initializers of the main graph', async () => {
    const info = await infoOf(resnet18({ width: 4, imageSize: 32, classes: 3 }), 'r.onnx');
    // 20 conv+BN pairs (17 convs in the trunk + 3 projections), 17 ReLUs, maxpool, 8 Adds, pool, flatten, gemm.
    expect(info.nodeCount).toBe(20 * 2 + 17 + 1 + 8 + 3);
    expect(info.initializerCount).toBe(20 * 5 + 2);
  });

  test('leaves out graph inputs that are initializers (older exporters list weights as inputs)', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float', [2, 3]);
    g.input('w', 'float', [3, 3]);
    g.node('MatMul', [x, g.weight('w', [3, 3], 3)], {}, 'y');
    g.output('y', 'float', [2, 3]);
    const info = await readModelInfoFromBuffer(g.toModel({ irVersion: 3, opset: 9 }));
    expect(info.inputs.map((t) => t.name)).toEqual(['x']);
    expect(info).toMatchObject({ irVersion: 3, opsets: { '': 9 }, initializerCount: 1 });
  });

  test('names element types, non-tensor types, unknown dims and unknown rank', async () => {
    const tensorType = (elemType: number, dim?: object[]) => ({ tensorType: { elemType, ...(dim && { shape: { dim } }) } });
    const model = {
      irVersion: 9,
      opsetImport: [{ domain: 'ai.onnx', version: 19 }, { domain: 'com.microsoft', version: 1 }],
      graph: {
        name: 'types',
        input: [
          { name: 'half', type: tensorType(10, [{ dimValue: 1 }, {}, { dimParam: 'n' }]) },
          { name: 'brain', type: tensorType(16, []) },
          { name: 'f8', type: tensorType(17) },
          { name: 'seq', type: { sequenceType: { elemType: tensorType(1) } } },
          { name: 'map', type: { mapType: { keyType: 7, valueType: tensorType(11) } } },
        ],
        output: [{ name: 'u64', type: tensorType(13, [{ dimValue: 4 }]) }],
      },
    };
    const info = await readModelInfoFromBuffer(ModelProto.encode(ModelProto.fromObject(model)).finish());
    expect(info.opsets).toEqual({ '': 19, 'com.microsoft': 1 });
    expect(info.inputs).toEqual([
      { name: 'half', elementType: 'float16', dims: [1, null, 'n'] },
      { name: 'brain', elementType: 'bfloat16', dims: [] },
      { name: 'f8', elementType: 'float8e4m3fn', dims: [], unknownRank: true },
      { name: 'seq', elementType: 'seq(tensor(float))', dims: [] },
      { name: 'map', elementType: 'map(int64,tensor(double))', dims: [] },
    ]);
    expect(info.outputs).toEqual([{ name: 'u64', elementType: 'uint64', dims: [4] }]);
    expect(info).toMatchObject({ producerName: '', producerVersion: '', nodeCount: 0, initializerCount: 0 });
  });
});
