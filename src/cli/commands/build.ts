/** `kiln build MODEL --target T ... [--watch]`: submit a request, and optionally watch its builds. */
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { RequestAnswer, SubmitResult } from '../api-types';
import { buildOptions, collect, type JsonObject } from '../build-options';
import { contextOf, type CliContext, type Io } from '../context';
import { CommandFailed, UsageError } from '../errors';
import { describeBest, pointLabel } from '../sweep-format';
import { bestFromFlag, sweepFromFlags } from '../sweep-flags';
import { shortId, table } from '../format';

interface BuildFlags {
  target?: string[];
  live?: boolean;
  shapes?: string[];
  option?: string[];
  optionsFile?: string;
  inputs?: string;
  watch?: boolean;
  log?: boolean;
  sweep?: string[];
  best?: string;
}

export function registerBuild(program: Command, io: Io): void {
  program
    .command('build')
    .description('Build a model for one or more targets (one build per target)')
    .argument('<model>', 'model reference: sha256, prefix of 12+, name or name@version')
    .option('-t, --target <key>', 'target key, e.g. ort1.30.0-x86_64-avx2 or trt10.9.0-sm89 (repeatable)', collect)
    .option('--live', 'every target served by a live worker')
    .option('--shapes <name=dims>', 'concrete shape of an input, e.g. input=1x3x224x224 (repeatable)', collect)
    .option('--option <path=value>', 'a build option by dotted path, e.g. validation.rtol=1e-3 (repeatable)', collect)
    .option('--options-file <file>', 'build options as a JSON file (flags override it)')
    .option('--inputs <file>', 'validation input tensors as JSON ({ "input": { "dims": [...], "data": [...] } }); uploaded first when large')
    .option('--sweep <path=a,b,c>', 'build every combination of these option values, e.g. onnxruntime.intraOpNumThreads=1,2,4 (repeatable)', collect)
    .option('--best <metric[:batch]>', 'with --sweep, what picks the best point: latency (p50) or throughput, at a batch size (default: latency at the smallest batch)')
    .option('-w, --watch', 'follow the builds to the end with live progress')
    .option('--log', 'with --watch, show the builds\' log lines too')
    .action(async (model: string, flags: BuildFlags, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const targets = flags.target ?? [];
      if (flags.live && targets.length) throw new UsageError('Give --target or --live, not both');
      if (!flags.live && targets.length === 0) {
        throw new UsageError('Give at least one --target KEY, or --live for every target a live worker serves; `kiln workers` lists the targets of this farm\'s workers');
      }
      const file = flags.optionsFile ? await readOptionsFile(flags.optionsFile) : undefined;
      let options = buildOptions({ file, shapes: flags.shapes, options: flags.option });
      if (flags.inputs) options = await withInputs(ctx, options ?? {}, flags.inputs);
      const sweep = sweepFromFlags(flags.sweep);
      const best = bestFromFlag(flags.best);
      if (best && !sweep) throw new UsageError('--best picks the best point of a sweep; give --sweep too');
      const body = { model, targets: flags.live ? 'live' : targets, ...(options ? { options } : {}), ...(sweep ? { sweep } : {}), ...(best ? { best } : {}) };
      const result = await ctx.client.json<SubmitResult>('POST', '/v1/builds', { json: body });

      if (!flags.watch) {
        ctx.output(result, () => describeSubmit(result));
        return;
      }
      if (!ctx.json) ctx.print(describeSubmit(result) + '\n');
      const { allSucceeded, summaryTable, watchBuilds } = require('../watch') as typeof import('../watch');
      const records = await watchBuilds(ctx, result.builds, { log: flags.log });
      if (result.points) {
        // A sweep's answer is its best points: some failed points do not fail it.
        const request = await ctx.client.json<RequestAnswer>('GET', `/v1/requests/${result.request}`);
        ctx.output({ request: result.request, model: result.model, builds: records, sweep: request.sweep }, () => `\n${summaryTable(records)}\n\n${describeBest(request.sweep!)}`);
        if (!request.sweep!.targets.some((t) => t.state === 'decided')) throw new CommandFailed(1);
        return;
      }
      ctx.output({ request: result.request, model: result.model, builds: records }, () => `\n${summaryTable(records)}`);
      if (!allSucceeded(records)) throw new CommandFailed(1);
    });
}

/**
 * Inputs this small go inline (options.validation.inputs), under the farm's default
 * KILN_MAX_INLINE_INPUTS_BYTES (256 KiB); larger ones are uploaded (POST /v1/inputs) and named
 * by their sha256 (options.validation.inputsRef), as models are.
 */
const INLINE_INPUTS_MAX_BYTES = 192 * 1024;

async function withInputs(ctx: CliContext, options: JsonObject, file: string): Promise<JsonObject> {
  const size = (await stat(file).catch(() => null))?.size;
  if (size === undefined) throw new UsageError(`Cannot read --inputs ${file}: it does not exist`);
  const validation = { ...((options.validation as JsonObject | undefined) ?? {}) };
  if (size <= INLINE_INPUTS_MAX_BYTES) {
    validation.inputs = (await readJsonFile(file, '--inputs')) as JsonObject;
  } else {
    const { uploadFile } = require('../upload') as typeof import('../upload');
    const uploaded = await uploadFile<{ sha256: string }>(ctx, { file, path: '/v1/inputs', query: {}, what: 'a JSON file of input tensors' });
    validation.inputsRef = uploaded.sha256;
  }
  return { ...options, validation };
}

async function readOptionsFile(file: string): Promise<unknown> {
  return readJsonFile(file, '--options-file');
}

async function readJsonFile(file: string, flag: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`Cannot read ${flag} ${file}: ${err.code ?? err.message}`);
  });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`Expected JSON in ${flag} ${file} but it does not parse: ${(err as Error).message}`);
  }
}

export function describeSubmit(result: SubmitResult): string {
  const rows = result.builds.map((b) => [
    b.target,
    b.state,
    b.buildKey,
    [b.cached ? 'cached' : '', b.joined ? (b.state === 'active' ? 'joined a build in progress' : 'joined a queued build') : '', b.waiting?.message ?? b.warning ?? ''].filter(Boolean).join('; '),
  ]);
  const head = `request ${result.request} (model ${shortId(result.model)})\n${table(['TARGET', 'STATE', 'BUILD', 'NOTE'], rows)}`;
  if (!result.points) return head;
  const points = result.points.map((p) => [p.target, pointLabel(p.values), p.buildKey ? shortId(p.buildKey) : '-', p.refused ? `refused: ${p.refused}` : p.runtime !== undefined ? `runtime setting ${p.runtime + 1} of its build` : '']);
  return `${head}\n\n${result.points.length} sweep points (the best per target: \`kiln request ${result.request.slice(0, 8)}\` once all are done)\n${table(['TARGET', 'POINT', 'BUILD', 'NOTE'], points)}`;
}
