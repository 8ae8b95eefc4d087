/** `kiln export triton MODEL -o DIR`: a Triton model repository of the model's engines, verified. */
import path from 'node:path';
import type { Command } from 'commander';
import { contextOf, type Io } from '../context';
import { fields, formatBytes, shortId, table } from '../format';
import { indent } from './models';

interface EpContextFlags {
  cc: string;
  trt: string;
  sku?: string;
  precision?: string;
  output?: string;
  embed?: boolean;
}

interface TritonFlags {
  output?: string;
  targets?: string;
  trt?: string;
  precision?: string;
  platform?: string;
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
    .option('--platform <p>', "the Triton server's platform: linux-x86_64, linux-aarch64 or windows-x86_64 (Default: linux-x86_64)")
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
        platform: flags.platform,
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
  exportCommand
    .command('epcontext')
    .description("An EPContext model for ONNX Runtime's TensorRT EP and the engine it points at, for one GPU, verified")
    .argument('<model>', 'model reference')
    .requiredOption('--cc <x.y>', "the GPU's compute capability, e.g. 8.9")
    .requiredOption('--trt <version>', "the TensorRT version of the client's ONNX Runtime, e.g. 10.9.0")
    .option('--sku <slug>', 'the GPU model, e.g. nvidia-geforce-rtx-4080')
    .option('--precision <p>', 'engine precision wanted, e.g. fp16')
    .option('--embed', 'also write model_ctx.embedded.onnx: the engine inside the model (embed_mode 1), one file to ship')
    .option('-o, --output <dir>', 'directory to write into, created if missing (Default: MODEL-epcontext-sm<cc>)')
    .action(async (model: string, flags: EpContextFlags, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const dir = flags.output ?? `${model}-epcontext-sm${flags.cc.replace('.', '')}`.replace(/[^A-Za-z0-9@._+-]/g, '_');
      const { exportEpContext } = require('../export-epcontext') as typeof import('../export-epcontext');
      const result = await exportEpContext(ctx.client, { model, cc: flags.cc, trt: flags.trt, sku: flags.sku, precision: flags.precision }, dir, Boolean(flags.embed));
      ctx.output({ dir, ...result }, () => {
        const { answer } = result;
        const head = fields([
          ['rung', `${answer.rung}: ${answer.note}`],
          ['target', answer.target],
          ['build', answer.buildKey],
        ]);
        const rows = result.files.map((f) => [f.path, f.role, formatBytes(f.size), shortId(f.sha256, 16), 'verified']);
        if (result.embedded) rows.push([result.embedded.path, 'epcontext, embedded', formatBytes(result.embedded.size), shortId(result.embedded.sha256, 16), 'made here']);
        const use = result.embedded?.path ?? result.files.find((f) => f.role === 'epcontext')!.path;
        return `${head}\nwrote into ${path.join(dir, path.sep)}:\n${indent(table(['FILE', 'ROLE', 'SIZE', 'SHA256', 'STATUS'], rows))}\nuse: onnxruntime.InferenceSession("${use}", providers=["TensorrtExecutionProvider"])`;
      });
    });
}
