import { OnnxModelError, readModelInfo, readModelInfoFromBuffer } from '../../src/core/onnx';
import { Writer } from 'protobufjs';
import { AttributeType, ModelProto } from '../../src/core/onnx/schema';
import { constantNodeExternal, resnet18, tinyConv, withExternalData, writeModel } from '../models';
import { externalTensor, tensor } from '../models/graph-builder';
import { createRng } from '../models/prng';
import { useTempDir } from './temp-dir';

const dir = useTempDir();

/** The error readModelInfo rejects `bytes` with (read from a real file). */
async function rejection(bytes: Uint8Array, name = 'model.onnx'): Promise<OnnxModelError> {
  const path = await writeModel(Buffer.from(bytes), dir(), name);
  const error = await readModelInfo(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OnnxModelError);
  return error as OnnxModelError;
}

function randomBytes(seed: number, length: number): Buffer {
  const rng = createRng(seed);
  return Buffer.from(Array.from({ length }, () => Math.floor(rng.next() * 256)));
}

type Plain = Record<string, unknown>;
const output = { name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 4 }] } } } };
const constantNode = (t: Plain): Plain => ({ opType: 'Constant', name: 'const', output: ['c'], attribute: [{ name: 'value', type: AttributeType.TENSOR, t }] });
const graphAttr = (name: string, g: Plain): Plain => ({ name, type: AttributeType.GRAPH, g });
const subgraph = (node: Plain[]): Plain => ({ name: 'branch', node, output: [output] });

function model(graph: Plain | undefined, extra: Plain = {}): Uint8Array {
  const fields = { irVersion: 8, opsetImport: [{ domain: '', version: 17 }], ...(graph && { graph: { name: 'g', output: [output], ...graph } }), ...extra };
  return ModelProto.encode(ModelProto.fromObject(fields)).finish();
}

describe('readModelInfo rejects what it cannot build', () => {
  test('an empty file', async () => {
    const error = await rejection(Buffer.alloc(0));
    expect(error.code).toBe('empty');
    expect(error.message).toBe(
      'The file is empty (0 bytes). Kiln accepts a single self-contained binary ONNX file (a serialized onnx.ModelProto, as written by onnx.save_model or torch.onnx.export).',
    );
  });

  test.each([1, 2, 3, 4, 5, 6, 7, 8])('random bytes (seed %i)', async (seed) => {
    for (const length of [1, 7, 100, 5000, 70_000]) {
      const error = await readModelInfoFromBuffer(randomBytes(seed * 1000 + length, length)).catch((e: OnnxModelError) => e);
      expect([length, (error as OnnxModelError).code]).toEqual([length, 'not-onnx']);
    }
  });

  test.each([
    ['a text file', Buffer.from('name,score\nalice,1\nbob,2\n'.repeat(20)), 'a text file'],
    ['ONNX text format', Buffer.from('ir_version: 8\nopset_import { domain: "" version: 17 }\ngraph { name: "g" }\n'), 'ONNX text format'],
    ['a PNG image', Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(9, 200)]), 'a PNG image'],
    ['a PyTorch checkpoint', Buffer.concat([Buffer.from('PK\x03\x04'), randomBytes(10, 200)]), 'a ZIP archive'],
  ])('%s', async (_, bytes, says) => {
    const error = await rejection(bytes);
    expect(error.code).toBe('not-onnx');
    expect(error.message).toContain(`The file is not an ONNX model: it looks like ${says}`);
  });

  test('a protobuf whose graph is not a GraphProto', async () => {
    // ir_version 8, graph { field 1 as a varint }, opset_import { version 17 }
    const error = await rejection(Buffer.from('0808' + '3a020801' + '42021011', 'hex'));
    expect(error.code).toBe('not-onnx');
    expect(error.message).toContain('it is corrupt: field 1 at byte 6 has wire type 0, expected 2 (length-delimited)');
  });

  test.each([
    ['tinyConv', tinyConv()],
    ['resnet18', Buffer.from(resnet18({ width: 4, imageSize: 32, classes: 3 }))],
  ])('%s cut short at several points', async (_, bytes) => {
    for (const cut of [3, 40, Math.floor(bytes.length / 2), bytes.length - 100, bytes.length - 1]) {
      const error = await readModelInfoFromBuffer(bytes.subarray(0, cut)).catch((e: OnnxModelError) => e);
      expect([cut, (error as OnnxModelError).code]).toEqual([cut, 'truncated']);
    }
    const error = await rejection(bytes.subarray(0, 1000));
    expect(error.message).toMatch(/^The ONNX model is truncated: field \d+ at byte \d+ is \d+ bytes long, past the end of the file \(the file has 1000 bytes\)\. Upload the whole file\.$/);
  });

  test('a model without a graph', async () => {
    expect((await rejection(model(undefined))).code).toBe('no-graph');
  });

  test('a model without opset_import', async () => {
    const error = await rejection(model({}, { opsetImport: [] }));
    expect([error.code, error.message]).toEqual(['not-onnx', expect.stringContaining('it has no opset_import')]);
  });

  test('a graph without outputs', async () => {
    const error = await rejection(model({ name: 'silent', output: [], node: [constantNode(tensor('c', [1], Float32Array.of(1)))] }));
    expect(error.code).toBe('no-outputs');
    expect(error.message).toBe(
      'The ONNX graph "silent" has no outputs. Kiln builds and validates models by their outputs: export the model with at least one graph output.',
    );
  });
});

describe('readModelInfo refuses external data wherever a tensor is', () => {
  test('an initializer', async () => {
    const error = await rejection(withExternalData());
    expect(error.code).toBe('external-data');
    expect(error.message).toBe(
      'An initializer of the graph ("bias") keeps its data outside the model file (location "weights.bin"). ' +
        'Kiln refuses external data: its location would be a path on the Kiln server, not a file you uploaded. ' +
        'Save the model with every tensor inside the file, e.g. onnx.save_model(model, path, save_as_external_data=False) ' +
        '(possible for models under 2 GiB, the protobuf size limit).',
    );
  });

  test('a Constant node', async () => {
    const error = await rejection(constantNodeExternal());
    expect(error.code).toBe('external-data');
    expect(error.message).toMatch(/^The tensor in attribute "value" of node "Constant_0" \(Constant\) of the graph \("bias"\) keeps its data outside/);
  });

  const external = externalTensor('w', [4], 'weights.bin');
  const onlyLocation = { name: 'w', dims: [4], dataType: 1, externalData: [{ key: 'location', value: '../../etc/passwd' }] };
  const ifNode = (node: Plain[]): Plain => ({
    opType: 'If', name: 'if', input: ['cond'], output: ['y'],
    attribute: [graphAttr('then_branch', subgraph(node)), graphAttr('else_branch', subgraph([]))],
  });
  test.each([
    ['an If branch', { node: [ifNode([constantNode(external)])] }, {}],
    ['a Loop body inside a Scan body', { node: [{ opType: 'Scan', attribute: [graphAttr('body', subgraph([{ opType: 'Loop', attribute: [graphAttr('body', subgraph([constantNode(external)]))] }]))] }] }, {}],
    ['a sparse initializer', { sparseInitializer: [{ values: external, indices: tensor('i', [4], BigInt64Array.of(0n, 1n, 2n, 3n)), dims: [4] }] }, {}],
    ['a tensor naming only a location', { initializer: [onlyLocation] }, {}],
    ['a model-local function', {}, { functions: [{ name: 'f', domain: 'local', node: [constantNode(external)] }] }],
  ])('%s', async (_, graph, extra) => {
    const error = await rejection(model(graph, extra));
    expect(error.code).toBe('external-data');
    expect(error.message).toContain('Save the model with every tensor inside the file');
  });

  test('subgraphs nested deeper than 32 levels', async () => {
    // Written by hand: protobufjs, like protoc, refuses to encode messages nested this deep.
    const len = (field: number, bytes: Uint8Array): Uint8Array => Writer.create().uint32((field << 3) | 2).bytes(bytes).finish();
    let graph: Uint8Array = new Uint8Array();
    for (let i = 0; i < 40; i++) graph = len(1, Buffer.concat([len(4, Buffer.from('If')), len(5, Buffer.concat([len(1, Buffer.from('then_branch')), len(6, graph)]))]));
    const bytes = Buffer.concat([Buffer.from('0808', 'hex'), len(7, graph), len(8, Buffer.from('1011', 'hex'))]);
    const error = await rejection(bytes);
    expect([error.code, error.message]).toEqual(['not-onnx', expect.stringContaining('subgraphs nest deeper than 32 levels')]);
  });
});
