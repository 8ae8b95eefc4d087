import { externalTensor, GraphBuilder } from './graph-builder';

/** Small models for tests: each exercises one thing Kiln reads, builds or validates. */

export interface TinyOptions {
  /** A symbolic 'batch' first dim, or a fixed 1. (Default: true) */
  dynamicBatch?: boolean;
  seed?: number;
  /** Scales each weight by (1 + perturb * N(0, 1)) (tiny-mlp, tiny-conv). (Default: 0) */
  perturb?: number;
  /** The graph's name: another name gives other bytes with the same weights (tiny-mlp, tiny-conv). */
  graphName?: string;
}

const batchDim = (dynamicBatch = true): number | string => (dynamicBatch ? 'batch' : 1);

/** sum = a + b, both float [batch, 4]. */
export function tinyAdd(options: TinyOptions = {}): Buffer {
  const g = new GraphBuilder(options.seed);
  const batch = batchDim(options.dynamicBatch);
  const a = g.input('a', 'float', [batch, 4]);
  const b = g.input('b', 'float', [batch, 4]);
  g.node('Add', [a, b], {}, 'sum');
  g.output('sum', 'float', [batch, 4]);
  return g.toModel({ graphName: 'tiny_add' });
}

/** x [batch, 8] -> Gemm(16) -> Relu -> MatMul + Add (4) -> y: both ways exporters write a dense layer. */
export function tinyMlp(options: TinyOptions = {}): Buffer {
  const g = new GraphBuilder(options.seed, options.perturb);
  const batch = batchDim(options.dynamicBatch);
  const x = g.input('x', 'float', [batch, 8]);
  const h = g.node('Gemm', [x, g.weight('fc1.weight', [16, 8], 8), g.uniform('fc1.bias', [16], -0.1, 0.1)], { transB: 1 });
  const relu = g.node('Relu', [h]);
  const mm = g.node('MatMul', [relu, g.weight('fc2.weight', [16, 4], 16)]);
  g.node('Add', [mm, g.uniform('fc2.bias', [4], -0.1, 0.1)], {}, 'y');
  g.output('y', 'float', [batch, 4]);
  return g.toModel({ graphName: options.graphName ?? 'tiny_mlp' });
}

/** A small CNN: x [batch, 3, 16, 16] -> Conv + BN + Relu -> GlobalAveragePool -> Flatten -> Gemm -> logits [batch, 10]. */
export function tinyConv(options: TinyOptions = {}): Buffer {
  const g = new GraphBuilder(options.seed, options.perturb);
  const batch = batchDim(options.dynamicBatch);
  const x = g.input('x', 'float', [batch, 3, 16, 16]);
  const features = g.node('Relu', [g.convBn(x, 3, 8, 3)]);
  g.classifier(features, 8, 10, 'logits');
  g.output('logits', 'float', [batch, 10]);
  return g.toModel({ graphName: options.graphName ?? 'tiny_conv' });
}

/** Token ids int64 [batch, 6], valid in [0, 16), -> Gather from a [16, 8] embedding table -> [batch, 6, 8]. */
export function intInputModel(options: TinyOptions = {}): Buffer {
  const g = new GraphBuilder(options.seed);
  const batch = batchDim(options.dynamicBatch);
  const ids = g.input('ids', 'int64', [batch, 6]);
  g.node('Gather', [g.weight('embedding', [16, 8], 1), ids], { axis: 0 }, 'embeddings');
  g.output('embeddings', 'float', [batch, 6, 8]);
  return g.toModel({ graphName: 'embedding' });
}

/** x [batch, 'seq', 8] -> MatMul [8, 4] -> y [batch, 'seq', 4]: a non-batch dim with only a name. */
export function symbolicDimsModel(options: TinyOptions = {}): Buffer {
  const g = new GraphBuilder(options.seed);
  const x = g.input('x', 'float', ['batch', 'seq', 8]);
  g.node('MatMul', [x, g.weight('proj', [8, 4], 8)], {}, 'y');
  g.output('y', 'float', ['batch', 'seq', 4]);
  return g.toModel({ graphName: 'symbolic' });
}

/** tinyAdd's shape, plus a bias initializer whose data is in 'weights.bin' (rejected by Kiln). */
export function withExternalData(options: TinyOptions = {}): Buffer {
  const g = new GraphBuilder(options.seed);
  const x = g.input('x', 'float', ['batch', 4]);
  g.node('Add', [x, 'bias'], {}, 'y');
  g.output('y', 'float', ['batch', 4]);
  g.addInitializer(externalTensor('bias', [4], 'weights.bin'));
  return g.toModel({ graphName: 'external_initializer' });
}

/** The external tensor sits in a Constant node's `value` attribute instead of the initializers. */
export function constantNodeExternal(options: TinyOptions = {}): Buffer {
  const g = new GraphBuilder(options.seed);
  const x = g.input('x', 'float', ['batch', 4]);
  g.node('Constant', [], { value: { tensor: externalTensor('bias', [4], 'weights.bin') } }, 'bias');
  g.node('Add', [x, 'bias'], {}, 'y');
  g.output('y', 'float', ['batch', 4]);
  return g.toModel({ graphName: 'external_constant' });
}
