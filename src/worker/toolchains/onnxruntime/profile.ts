/**
 * One profiled pass of an ONNX Runtime build (docs/layer-profiles.md): the built model, loaded as
 * the benchmark loads it, run with ONNX Runtime's profiler on, whose JSON trace has one
 * `<node>_kernel_time` event per node per run. Each node's first event is the warm-up run (arena
 * allocation, first-touch), so it is dropped and the rest averaged.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LAYER_PROFILE_FILE, makeLayerProfile, type LayerProfile } from '../../../core/layer-profile';
import { resolveShapes } from '../../shapes';
import { makeInputs } from '../../validation/seeded-inputs';
import type { StepContext } from '../toolchain';
import { withSession } from './session';
import { toOrtFeeds } from './tensors';

export const PROFILE_SOURCE = 'onnxruntime-profiler';
/** Profiled runs after the warm-up: enough to average out scheduling, few enough to stay cheap. */
const PROFILED_RUNS = 10;
const KERNEL = '_kernel_time';

interface TraceEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

/** Per-node mean kernel time from ONNX Runtime's trace, first (warm-up) event of each node left out. */
export function parseOrtProfile(trace: unknown, batch: number): LayerProfile {
  if (!Array.isArray(trace)) throw new Error(`Expected ONNX Runtime's profile to be a JSON array of trace events but received ${typeof trace}`);
  const nodes = new Map<string, { opType: string | null; durations: number[] }>();
  for (const event of trace as TraceEvent[]) {
    if (event?.cat !== 'Node' || typeof event.name !== 'string' || !event.name.endsWith(KERNEL) || typeof event.dur !== 'number') continue;
    const name = event.name.slice(0, -KERNEL.length);
    const node = nodes.get(name) ?? { opType: event.args?.op_name ?? null, durations: [] };
    node.durations.push(event.dur);
    nodes.set(name, node);
  }
  let runs = 0;
  const layers = [...nodes].map(([name, { opType, durations }]) => {
    const timed = durations.length > 1 ? durations.slice(1) : durations;
    runs = Math.max(runs, timed.length);
    return { name, opType, ms: timed.reduce((a, b) => a + b, 0) / timed.length / 1000 };
  });
  return makeLayerProfile(PROFILE_SOURCE, batch, runs, layers);
}

/** Profiles the built model at `batch` and writes layer-profile.json into the work dir. */
export async function profileOnnxRuntime(ctx: StepContext, modelPath: string, batch: number, dynamic: boolean, threads: number): Promise<LayerProfile> {
  const { shapes, validation } = ctx.spec.options;
  const prefix = path.join(ctx.workDir, 'ort-profile');
  const inputs = makeInputs(ctx.model, resolveShapes(ctx.model, shapes, dynamic ? { batch } : {}), { seed: validation.seed, inputRanges: validation.inputRanges });
  const feeds = toOrtFeeds(inputs);
  await withSession(
    modelPath,
    'disabled',
    'the built model (profiled)',
    async (session) => {
      for (let i = 0; i <= PROFILED_RUNS; i++) {
        ctx.signal.throwIfAborted();
        await session.run(feeds);
      }
      // Written when profiling ends, to <prefix>_<date>.json; the session is released after.
      session.endProfiling();
    },
    false,
    { enableProfiling: true, profileFilePrefix: prefix, intraOpNumThreads: threads },
  );
  const written = (await readdir(ctx.workDir)).filter((f) => f.startsWith('ort-profile') && f.endsWith('.json'));
  if (written.length !== 1) throw new Error(`Expected one ONNX Runtime profile in ${ctx.workDir} but found ${written.length}`);
  const file = path.join(ctx.workDir, written[0]);
  const profile = parseOrtProfile(JSON.parse(await readFile(file, 'utf8')), batch);
  await rm(file, { force: true });
  await writeFile(path.join(ctx.workDir, LAYER_PROFILE_FILE), JSON.stringify(profile, null, 2));
  return profile;
}
