import type { Dim, ModelInfo, TensorInfo } from '../../src/core/onnx/model-info';
import { batchInfo, resolveShapes } from '../../src/worker/shapes';
import { BuildInputError } from '../../src/worker/toolchains/toolchain';

const input = (name: string, dims: Dim[], elementType = 'float'): TensorInfo => ({ name, elementType, dims });
const model = (...inputs: TensorInfo[]): Pick<ModelInfo, 'inputs'> => ({ inputs });

function errorOf(fn: () => unknown): BuildInputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BuildInputError);
    return err as BuildInputError;
  }
  throw new Error('Expected a BuildInputError but nothing was thrown');
}

describe('resolveShapes', () => {
  const image = model(input('x', ['batch', 3, 224, 224]));

  test('a symbolic leading dim is the batch dim: 1 by default, the given batch otherwise', () => {
    expect(resolveShapes(image)).toEqual({ x: [1, 3, 224, 224] });
    expect(resolveShapes(image, {}, { batch: 8 })).toEqual({ x: [8, 3, 224, 224] });
    expect(resolveShapes(model(input('x', [null, 4])))).toEqual({ x: [1, 4] });
  });

  test('fixed dims stay as the model has them', () => {
    expect(resolveShapes(model(input('x', [2, 4])), {}, { batch: 8 })).toEqual({ x: [2, 4] });
  });

  test('a missing symbolic dim names the input, its dims and the option to set', () => {
    const tokens = model(input('tokens', ['batch', 'seq']), input('scale', [1]));
    expect(errorOf(() => resolveShapes(tokens)).message).toBe(
      'input "tokens" [batch, seq] has symbolic dims [seq]: give its shape, e.g. --shapes tokens=1x128 (options.shapes: { "tokens": [1, 128] })',
    );
    // A name a shell would split is quoted, so the suggestion can be pasted as it is.
    expect(errorOf(() => resolveShapes(model(input("input ids", ['batch', 'seq'])))).message).toContain("--shapes 'input ids=1x128' (options.shapes");
    const unnamed = model(input('x', ['n', null, 'w']));
    expect(errorOf(() => resolveShapes(unnamed)).message).toContain('has symbolic dims [dim 1 (unnamed), w]');
  });

  test('every unresolved input is named in one message', () => {
    const two = model(input('a', ['b', 'h']), input('c', ['b', 'w']));
    const message = errorOf(() => resolveShapes(two)).message;
    expect(message).toContain('input "a" [b, h] has symbolic dims [h]');
    expect(message).toContain('input "c" [b, w] has symbolic dims [w]');
  });

  test('given shapes fill symbolic dims, and a dim name given once fills every input', () => {
    const bert = model(input('input_ids', ['batch', 'seq'], 'int64'), input('attention_mask', ['batch', 'seq'], 'int64'));
    expect(resolveShapes(bert, { input_ids: [2, 128] })).toEqual({ input_ids: [2, 128], attention_mask: [2, 128] });
    expect(resolveShapes(bert, { input_ids: [2, 128] }, { batch: 4 })).toEqual({ input_ids: [4, 128], attention_mask: [4, 128] });
  });

  test('one dim name with two values is an error', () => {
    const bert = model(input('ids', ['batch', 'seq']), input('mask', ['batch', 'seq']));
    expect(errorOf(() => resolveShapes(bert, { ids: [1, 128], mask: [1, 64] })).message).toBe(
      'Dim "seq" is 128 in options.shapes for input "ids" but 64 in options.shapes for input "mask"; one dim name must have one value',
    );
  });

  test('wrong rank, contradicted fixed dims and unknown inputs are errors that say what is accepted', () => {
    expect(errorOf(() => resolveShapes(image, { x: [1, 3, 224] })).message).toBe(
      'Expected 4 dims for input "x" [batch, 3, 224, 224] but options.shapes gives 3: [1, 3, 224]',
    );
    expect(errorOf(() => resolveShapes(image, { x: [1, 1, 224, 224] })).message).toBe(
      'Expected 3 for dim 1 of input "x" [batch, 3, 224, 224] (fixed in the model) but options.shapes gives 1',
    );
    expect(errorOf(() => resolveShapes(image, { y: [1] })).message).toBe(
      'options.shapes names input "y", which the model does not have (its inputs: "x")',
    );
    expect(errorOf(() => resolveShapes(image, { x: [1, 3] }, { sources: { x: 'options.validation.inputs["x"].dims' } })).message).toContain(
      'but options.validation.inputs["x"].dims gives 2',
    );
  });

  test('a bad batch is rejected', () => {
    expect(errorOf(() => resolveShapes(image, {}, { batch: 0 })).message).toBe('Expected a positive integer for batch but received 0');
  });
});

describe('batchInfo', () => {
  test('dynamic when every input has a symbolic leading dim of one name', () => {
    expect(batchInfo(model(input('a', ['batch', 4]), input('b', ['batch', 4])))).toEqual({ dynamic: true, dimName: 'batch', fixedBatch: 1 });
    expect(batchInfo(model(input('a', [null, 4])))).toEqual({ dynamic: true, dimName: null, fixedBatch: 1 });
  });

  test('not dynamic with a fixed leading dim, mixed names, or a scalar input', () => {
    expect(batchInfo(model(input('a', [4, 4])))).toEqual({ dynamic: false, dimName: null, fixedBatch: 4 });
    expect(batchInfo(model(input('a', ['n', 4]), input('b', ['m', 4]))).dynamic).toBe(false);
    expect(batchInfo(model(input('a', ['n', 4]), input('s', [])))).toEqual({ dynamic: false, dimName: null, fixedBatch: 1 });
  });
});
