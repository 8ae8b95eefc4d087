/**
 * The worker process: `npm run start:worker [-- --gpu all|0,1]` (or `kiln worker [--gpu ...]`).
 * Without --gpu (and KILN_GPUS=none) it is a CPU worker; with --gpu it runs one TensorRT worker per
 * selected GPU (src/worker/gpu/launcher.ts).
 */
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type KilnConfig } from '../config';
import { createContext, type FarmContext } from '../context';
import { createLogger } from '../log';
import { createGpuWorker } from './gpu/gpu-worker';
import { selectedGpus, startGpuWorkerProcesses } from './gpu/launcher';
import { KilnWorker } from './kiln-worker';
import { allToolchains } from './toolchains';

export interface RunWorkerOptions {
  /** `all`, or NVML indices/UUIDs such as `0,1`; `none` for a CPU worker. (Default: KILN_GPUS) */
  gpu?: string;
}

export async function runWorker(options: RunWorkerOptions = {}): Promise<void> {
  const config = loadConfig();
  const selection = options.gpu ?? config.gpus;
  if (selection === 'none') {
    const ctx = createContext(config, 'kiln-worker');
    await serve(new KilnWorker(config, ctx, { toolchains: allToolchains() }), ctx, config);
    return;
  }
  const gpus = await selectedGpus(config, selection);
  if (gpus.length === 1) {
    const gpu = gpus[0];
    const pinned: KilnConfig = { ...config, workerId: config.workerId ?? `${os.hostname()}-gpu${gpu.index}` };
    const ctx = createContext(pinned, 'kiln-gpu-worker');
    await serve(createGpuWorker(pinned, ctx, gpu), ctx, pinned);
    return;
  }
  // This file, run again per GPU (compiled JS, or TypeScript under tsx in development).
  const file = path.join(__dirname, `main${path.extname(__filename)}`);
  const log = createLogger(config.logLevel, 'kiln-gpu-workers');
  const fleet = startGpuWorkerProcesses(config, gpus, { file, execArgv: process.execArgv, log: (line) => log.info(line) });
  const shutdown = (signal: NodeJS.Signals) => {
    log.info({ signal }, `${signal}: stopping ${fleet.children.size} worker(s)`);
    // Each child hands back or finishes its build within its own grace period; this is the backstop.
    setTimeout(() => process.exit(1), config.shutdownGraceMs + 20_000).unref();
    void fleet.stop(signal).then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

async function serve(worker: KilnWorker, ctx: FarmContext, config: KilnConfig): Promise<void> {
  await worker.start();
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    ctx.log.info({ workerId: worker.id, signal }, `${signal}: finishing or handing back the current build`);
    // Forced exit past the grace period plus a margin; unref'd so it never keeps the process alive.
    setTimeout(() => process.exit(1), config.shutdownGraceMs + 15_000).unref();
    worker
      .stop()
      .then(() => ctx.close())
      .then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/** `--gpu X` or `--gpu=X` from the command line (npm run start:worker -- --gpu all). */
export function gpuFlag(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--gpu') return argv[i + 1] ?? '';
    if (argv[i].startsWith('--gpu=')) return argv[i].slice('--gpu='.length);
  }
  return undefined;
}

if (require.main === module) {
  runWorker({ gpu: gpuFlag(process.argv.slice(2)) }).catch((err) => {
    // Why the process could not start is for the person who started it: plain text on stderr.
    process.stderr.write(`[worker] ${err instanceof Error ? err.message : err}\n`);
    process.exit(1);
  });
}
