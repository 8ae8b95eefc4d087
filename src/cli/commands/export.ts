/** `kiln export triton MODEL -o DIR`: a Triton model repository of the model's engines, verified. */
import path from 'node:path';
import type { Command } from 'commander';
import { contextOf, type Io } from '../context';
import { fields, formatBytes, shortId, table } from '../format';
import { indent } from './models';

interface TritonFlags {
  output?: string;
  targets?: string;
  trt?: string;
  precision?: string;
  name?: string;
  onnx?: boolean;
}

export function registerExport(program: Command, io: Io): void {
  const exportCommand = program.command('export').description('Write a model\'s artifacts in the layout a serving system reads');
  exportCommand
    .command('triton')
    .description('A Triton model repository: config.pbtxt (cc_model_filenames for every compute capability with an engine) and the engines in 1/')
    .argument('<model>', 'model reference')
    .option('-o, --output <dir>', 'the model repository folder, created if missing (Default: MODEL-triton)')
    .option('--targets <keys>', 'comma-separated TensorRT target keys (Default: the newest engine of every compute capability)')
    .option('--trt <version>', "only engines of this TensorRT version (the Triton server's), e.g. 10.9.0")
    .option('--precision <p>', 'only engines of this precision, e.g. fp16')
    .option('--name <name>', "the model's name in the repository (Default: the model's name)")
    .option('--onnx', 'also add the ONNX as an onnxruntime_onnx fallback model, NAME_onnx')
    .action(async (model: string, flags: TritonFlags, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const dir = flags.output ?? `${model}-triton`.replace(/[^A-Za-z0-9@._+-]/g, '_');
      const { exportTriton } = require('../export-triton') as typeof import('../export-triton');
      const result = await exportTriton(ctx.client, model, dir, {
        targets: flags.targets,
        trt: flags.trt,
        precision: flags.precision,
        name: flags.name,
        onnx: flags.onnx ? '1' : undefined,
      });
      ctx.output({ dir, ...result }, () => {
        const { listing } = result;
        const head = fields([
          ['model', listing.model],
          ['name', listing.name],
          ['TensorRT', listing.trt],
          ['max batch', String(listing.maxBatchSize)],
          ['engines', listing.engines.map((e) => `${e.cc} (${e.targetKey})`).join(', ')],
        ]);
        const rows = result.files.map((f) => [f.path, formatBytes(f.size), shortId(f.sha256, 16), 'verified']);
        return `${head}\nwrote the repository into ${path.join(dir, path.sep)}:\n${indent(table(['FILE', 'SIZE', 'SHA256', 'STATUS'], rows))}\nserve: tritonserver --model-repository=${path.resolve(dir)}`;
      });
    });
}
