/**
 * Writes a test model: npm run models:generate -- <name> <out.onnx> [--width N] [--image-size N] [--classes N] [--seed N] [--static-batch]
 * Drift gates: --graph-name X gives other bytes with the same weights, --perturb 0.05 other weights.
 * e.g. npm run models:generate -- resnet18 /tmp/resnet18.onnx  (the real ~11.7M-parameter shape)
 */
import { Command } from 'commander';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { ModelProto } from '../../src/core/onnx/schema';
import { constantNodeExternal, intInputModel, mobilenetV2, resnet18, symbolicDimsModel, tinyAdd, tinyConv, tinyMlp, withExternalData } from './index';

interface Flags {
  width?: number;
  imageSize?: number;
  classes?: number;
  seed?: number;
  staticBatch?: boolean;
  perturb?: number;
  graphName?: string;
}

const MODELS: Record<string, (flags: Flags) => Buffer> = {
  resnet18: (f) => resnet18({ width: f.width, imageSize: f.imageSize, classes: f.classes, seed: f.seed, dynamicBatch: !f.staticBatch }),
  mobilenetv2: (f) => mobilenetV2({ widthMultiplier: f.width, imageSize: f.imageSize, classes: f.classes, seed: f.seed, dynamicBatch: !f.staticBatch }),
  'tiny-add': (f) => tinyAdd({ seed: f.seed, dynamicBatch: !f.staticBatch }),
  'tiny-mlp': (f) => tinyMlp({ seed: f.seed, dynamicBatch: !f.staticBatch, perturb: f.perturb, graphName: f.graphName }),
  'tiny-conv': (f) => tinyConv({ seed: f.seed, dynamicBatch: !f.staticBatch, perturb: f.perturb, graphName: f.graphName }),
  'int-input': (f) => intInputModel({ seed: f.seed, dynamicBatch: !f.staticBatch }),
  'symbolic-dims': (f) => symbolicDimsModel({ seed: f.seed }),
  'external-data': (f) => withExternalData({ seed: f.seed }),
  'constant-external': (f) => constantNodeExternal({ seed: f.seed }),
};

function number(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`Expected a positive number for --${name} but received ${value}`);
    return n;
  };
}

/** Parameters = elements of all initializers (BatchNorm running statistics included). */
function countParameters(bytes: Buffer): number {
  const model = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number }) as { graph?: { initializer?: Array<{ dims?: number[] }> } };
  return (model.graph?.initializer ?? []).reduce((sum, t) => sum + (t.dims ?? []).reduce((a, b) => a * b, 1), 0);
}

new Command()
  .name('models:generate')
  .description('Write a test ONNX model with seeded random weights.')
  .argument('<name>', `one of: ${Object.keys(MODELS).join(', ')}`)
  .argument('<out>', 'the .onnx file to write')
  .option('--width <n>', 'resnet18: first-stage channels (64 = real); mobilenetv2: width multiplier (1 = real)', number('width'))
  .option('--image-size <n>', 'input height and width', number('image-size'))
  .option('--classes <n>', 'output classes', number('classes'))
  .option('--seed <n>', 'weights seed', number('seed'))
  .option('--static-batch', 'batch dim fixed to 1 instead of symbolic')
  .option('--perturb <scale>', 'tiny-mlp, tiny-conv: scale each weight by (1 + scale * N(0, 1)), a retrained-looking version', number('perturb'))
  .option('--graph-name <name>', 'tiny-mlp, tiny-conv: the graph name (other bytes, same weights: a re-upload)')
  .action(async (name: string, out: string, flags: Flags) => {
    const build = MODELS[name];
    if (!build) throw new Error(`Expected a model name (${Object.keys(MODELS).join(', ')}) but received ${name}`);
    const bytes = build(flags);
    await writeFile(out, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    console.log(JSON.stringify({ path: out, model: name, size: bytes.length, sha256, parameters: countParameters(bytes) }, null, 2));
  })
  .parseAsync()
  .catch((e: Error) => {
    console.error(e.message);
    process.exitCode = 1;
  });
