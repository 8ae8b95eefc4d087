/**
 * `kiln fetch MODEL [--target T | --cc 8.9 --trt 10.9.0 [--sku S]] -o DIR [--verify [--key FILE]]`:
 * resolve, download, verify. With none of those flags it detects the local GPU, TensorRT and
 * platform (local-client.ts). The set's signed provenance is saved beside the files, and with
 * --verify checked (docs/provenance.md).
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { BuildPageAnswer, ResolveAnswer, Waiting } from '../api-types';
import type { KilnClient } from '../client';
import { contextOf, type Io } from '../context';
import { CommandFailed, UsageError } from '../errors';
import { fields, formatBytes, shortId, table } from '../format';
import { indent } from './models';

interface FetchFlags {
  target?: string;
  cc?: string;
  trt?: string;
  sku?: string;
  precision?: string;
  platform?: string;
  output?: string;
  verify?: boolean;
  key?: string;
}

export function registerFetch(program: Command, io: Io): void {
  program
    .command('fetch')
    .description("Download the artifact that suits a client (CPU target, or GPU by compute capability and TensorRT version), verified")
    .argument('<model>', 'model reference')
    .option('-t, --target <key>', 'the client\'s target key, e.g. ort1.30.0-x86_64-avx2 (a TensorRT key stands for its cc, trt and sku)')
    .option('--cc <x.y>', "the GPU's compute capability, e.g. 8.9")
    .option('--trt <version>', "the client's TensorRT version, e.g. 10.9.0")
    .option('--sku <slug>', 'the GPU model, e.g. nvidia-geforce-rtx-4080')
    .option('--precision <p>', 'engine precision wanted, e.g. fp16')
    .option('--platform <p>', "the GPU client's platform: linux-x86_64, linux-aarch64 or windows-x86_64 (Default: this machine's when detected, else linux-x86_64)")
    .option('-o, --output <dir>', 'directory to write the files into, created if missing (Default: MODEL-TARGET, e.g. resnet18-ort1.30.0-x86_64-avx2)')
    .option('--verify', "check the set's signed provenance: the farm's signature, and every file a subject with its sha256")
    .option('--key <file>', "with --verify: the farm's public keys (a file from `kiln keys -o`, or a PEM key) (Default: the farm's GET /v1/keys, saved as farm-keys.json)")
    .action(async (model: string, flags: FetchFlags, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      if (flags.key && !flags.verify) throw new UsageError('--key is for --verify; add --verify');
      const query = flags.target || flags.cc || flags.trt ? resolveQuery(model, flags) : await detectedQuery(model, flags, io);
      const dir = flags.output ?? defaultOutputDir(query);
      const answer = await ctx.client.json<ResolveAnswer>('GET', '/v1/resolve', { query });
      if (flags.verify && !answer.buildKey) {
        throw new CommandFailed(1, `Expected an artifact set to verify but resolve answered rung ${answer.rung} (${answer.note}): the ONNX and the fleet timing cache, which no build signed`);
      }
      const { fetchArtifacts } = require('../fetch-artifacts') as typeof import('../fetch-artifacts');
      const files = await fetchArtifacts(ctx.client, answer, dir, { trt: query.trt });
      const { checkFetched } = require('../check-provenance') as typeof import('../check-provenance');
      const provenance = await checkFetched(ctx, dir, files, flags.verify ? { key: flags.key } : null);
      // No artifact yet: say whether a build that would make one is on its way, and why it waits.
      const pending = answer.buildKey ? [] : await pendingBuilds(ctx.client, answer.model, query);
      ctx.output({ resolve: answer, dir, files, ...(provenance ? { provenance } : {}), ...(pending.length ? { pending } : {}) }, () => {
        const head = fields([
          ['rung', `${answer.rung}: ${answer.note}`],
          ...pending.map((b): [string, string] => ['pending', `build ${shortId(b.buildKey)} for ${b.targetKey} is ${b.state}${b.waiting ? `: ${b.waiting.message}` : b.phase ? ` (${b.phase} ${Math.round(b.percent)}%)` : ''}`]),
          ['target', answer.target],
          ['build', answer.buildKey],
          ['validation', answer.validation],
          ['model', answer.model],
          // A best point measured with runtime settings is fastest when loaded with them.
          ['runtime', answer.runtime ? Object.entries(answer.runtime).map(([k, v]) => `${k}=${String(v)}`).join(' ') : undefined],
        ]);
        const rows = files.map((f) => [f.path, f.role ?? 'model', formatBytes(f.size), shortId(f.sha256, 16), f.downloaded ? 'verified' : 'already there, verified']);
        const primary = answer.primary ? `\nuse: ${files.find((f) => f.name === answer.primary)?.path ?? answer.primary}` : '';
        const signed = provenance ? `\nprovenance: verified, signed by key ${shortId(provenance.keyid, 16)}; every file matches the signed statement` : '';
        return `${head}\nwrote into ${path.join(dir, path.sep)}:\n${indent(table(['FILE', 'ROLE', 'SIZE', 'SHA256', 'STATUS'], rows))}${primary}${signed}`;
      });
    });
}

type PendingBuild = BuildPageAnswer['builds'][number] & { waiting?: Waiting };

/** Queued or running builds of the model for the client's target (CPU key, or TensorRT version and CC). */
async function pendingBuilds(client: KilnClient, model: string, query: ResolveQuery): Promise<PendingBuild[]> {
  // A GPU query may carry its CPU target too (the ladder's last rung); its builds are the engines'.
  const cpu = query.cc === undefined;
  const prefix = cpu ? query.target! : `trt${query.trt}-sm${query.cc!.replace('.', '')}`;
  const matches = (key: string) => (cpu ? key === prefix : key === prefix || key.startsWith(`${prefix}-`));
  const pages = await Promise.all(
    (['active', 'queued'] as const).map((state) => client.json<{ builds: PendingBuild[] }>('GET', '/v1/builds', { query: { model, state, limit: '50' } })),
  );
  return pages.flatMap((p) => p.builds).filter((b) => matches(b.targetKey));
}

/**
 * `resnet18-ort1.30.0-x86_64-avx2`, `resnet18-trt10.9.0-sm89`: one directory per model and client,
 * in the current directory, so fetching for two targets never mixes their files.
 */
export function defaultOutputDir(query: ResolveQuery): string {
  const client =
    query.cc === undefined ? query.target! : `trt${query.trt}-sm${query.cc.replace('.', '')}${query.sku ? `-${query.sku}` : ''}${query.precision ? `-${query.precision}` : ''}`;
  return `${query.model}-${client}`.replace(/[^A-Za-z0-9@._+-]/g, '_');
}

type ResolveQuery = { model: string; target?: string; cc?: string; trt?: string; sku?: string; precision?: string; platform?: string };

/**
 * No --target, --cc or --trt: this machine's GPU (the first NVML sees), TensorRT, platform and CPU
 * target. Says what it found on stderr. A machine without a GPU fetches its CPU artifact (or the
 * ONNX when there is none); a GPU client also sends its CPU target, the ladder's last rung before
 * the ONNX. A GPU without TensorRT is not sent to the CPU artifact: its user most likely wants an
 * engine, so it is told which --trt to pass (README, "Fetch by GPU").
 */
async function detectedQuery(model: string, flags: Omit<FetchFlags, 'output'>, io: Io): Promise<ResolveQuery> {
  const { detectLocalClient, describeLocalClient } = require('../local-client') as typeof import('../local-client');
  const found = await detectLocalClient();
  io.stderr.write(`${describeLocalClient(found)}\n`);
  if (!found.gpu && found.cpu) {
    if (flags.sku || flags.precision) throw new UsageError(`--sku and --precision are for GPU clients, and this machine has none (${found.missing.join('; ')}); pass --cc and --trt to fetch an engine for another machine`);
    io.stderr.write(`no GPU, so the CPU artifact for ${found.cpu.targetKey} (the ONNX when there is none); pass --cc and --trt for an engine, or --target for another CPU target\n`);
    return { model, target: found.cpu.targetKey };
  }
  if (!found.gpu || !found.trt) {
    const hint = found.gpu
      ? `pass the TensorRT version the engine is for with what was found: --cc ${found.gpu.cc} --sku ${found.gpu.sku} --trt <version> (e.g. --trt 10.9.0)`
      : 'pass --cc and --trt for a GPU client (e.g. --cc 8.9 --trt 10.9.0), or --target for a CPU client (e.g. --target ort1.30.0-x86_64-avx2)';
    throw new UsageError(`Cannot tell which artifact suits this machine: ${found.missing.join('; ')}. ${hint[0].toUpperCase()}${hint.slice(1)}`);
  }
  return {
    model,
    cc: found.gpu.cc,
    trt: found.trt.version,
    sku: flags.sku ?? found.gpu.sku,
    precision: flags.precision,
    platform: flags.platform ?? found.platform ?? undefined,
    ...(found.cpu ? { target: found.cpu.targetKey } : {}),
  };
}

/** --target for a CPU client; --cc/--trt (or a TensorRT target key) for a GPU client. */
export function resolveQuery(model: string, flags: Omit<FetchFlags, 'output'>): ResolveQuery {
  const gpu = flags.cc !== undefined || flags.trt !== undefined;
  if (flags.target && gpu) throw new UsageError('Give --target, or --cc and --trt, not both');
  // A CPU key goes to the API as it is (the API checks it); only a TensorRT key is taken apart
  // here, which needs the target schema and so zod: a fifth of a second of start-up on this machine.
  if (flags.target?.startsWith('ort')) {
    if (flags.sku || flags.precision) throw new UsageError('--sku and --precision are for GPU clients; a CPU --target takes neither');
    return { model, target: flags.target };
  }
  if (flags.target) {
    const { parseTargetKey, TargetParseError } = require('../../core/target') as typeof import('../../core/target');
    let target;
    try {
      target = parseTargetKey(flags.target);
    } catch (err) {
      if (err instanceof TargetParseError) throw new UsageError(err.message);
      throw err;
    }
    if (target.toolchain === 'onnxruntime') {
      if (flags.sku || flags.precision) throw new UsageError('--sku and --precision are for GPU clients; a CPU --target takes neither');
      return { model, target: flags.target };
    }
    const platform = flags.platform ?? (target.platform ? target.platform : undefined);
    return { model, cc: target.cc, trt: target.trt, sku: flags.sku ?? target.sku, precision: flags.precision, ...(platform ? { platform } : {}) };
  }
  if (!gpu) throw new UsageError('Give --target (e.g. ort1.30.0-x86_64-avx2) for a CPU client, or --cc and --trt (e.g. --cc 8.9 --trt 10.9.0) for a GPU client');
  if (!flags.cc || !flags.trt) throw new UsageError(`A GPU client gives both --cc and --trt; missing ${flags.cc ? '--trt' : '--cc'}`);
  return { model, cc: flags.cc, trt: flags.trt, sku: flags.sku, precision: flags.precision, ...(flags.platform ? { platform: flags.platform } : {}) };
}
