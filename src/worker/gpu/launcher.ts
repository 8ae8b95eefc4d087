/**
 * `kiln worker --gpu all|0,1` (or KILN_GPUS): one worker process per GPU. With one GPU selected
 * the worker runs in this process; with several, this process starts one child per GPU (this same
 * entry point, with KILN_GPUS naming that GPU's UUID, CUDA_VISIBLE_DEVICES pinning it and
 * KILN_WORKER_ID `<id or host>-gpu<index>`), restarts a child that dies, and on SIGTERM/SIGINT
 * passes the signal on and waits for every child to hand back or finish its build.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { KilnConfig } from '../../config';
import type { GpuInfo } from '../../native/types';
import { cudaEnvFor, detectGpus, selectGpus } from '../hardware/gpu';
import { createLogger } from '../../log';

const SECOND = 1000;

export class NoGpuError extends Error {
  override name = 'NoGpuError';
}

/** The GPUs `selection` names on this machine; throws NoGpuError/GpuSelectionError saying why none. */
export async function selectedGpus(config: Pick<KilnConfig, 'nvmlLibrary'>, selection: string): Promise<GpuInfo[]> {
  const detection = await detectGpus({ library: config.nvmlLibrary });
  if (!detection.ok) {
    throw new NoGpuError(`--gpu ${selection}: no GPU can be used here: ${detection.reason}. Run \`kiln worker\` without --gpu for a CPU worker`);
  }
  return selectGpus(detection.gpus, selection);
}

export interface WorkerEntry {
  /** The worker's entry point (src/worker/main), run with `execArgv` (tsx in development). */
  file: string;
  execArgv: string[];
  /** The children's stdout/stderr: the launcher's own (Default: 'inherit'), or pipes (tests). */
  stdio?: 'inherit' | 'pipe';
  /** Where the launcher says what it does. (Default: a JSON log line on stdout) */
  log?: (line: string) => void;
}

export interface GpuWorkerProcesses {
  /** The live child of each GPU, by NVML index. */
  readonly children: ReadonlyMap<number, ChildProcess>;
  /** Passes `signal` to every child and resolves once all have exited; nothing is restarted after. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts one worker process per GPU and restarts one that dies (with backoff) until stop(). */
const defaultLog = createLogger('info', 'kiln-gpu-workers');

export function startGpuWorkerProcesses(config: Pick<KilnConfig, 'workerId'>, gpus: GpuInfo[], entry: WorkerEntry): GpuWorkerProcesses {
  const children = new Map<number, ChildProcess>();
  const timers = new Set<NodeJS.Timeout>();
  let stopping = false;
  const log = entry.log ?? ((line: string) => defaultLog.info(line));
  const launch = (gpu: GpuInfo, restarts: number) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...cudaEnvFor(gpu),
      KILN_GPUS: gpu.uuid ?? String(gpu.index),
      KILN_WORKER_ID: `${config.workerId ?? os.hostname()}-gpu${gpu.index}`,
    };
    const child = spawn(process.execPath, [...entry.execArgv, entry.file], { env, stdio: entry.stdio ?? 'inherit' });
    children.set(gpu.index, child);
    const startedAt = Date.now();
    log(`GPU ${gpu.index} (${gpu.name}, CC ${gpu.cc}, ${gpu.uuid}): worker pid ${child.pid}`);
    child.on('exit', (code, signal) => {
      if (children.get(gpu.index) === child) children.delete(gpu.index);
      if (stopping) return;
      const next = Date.now() - startedAt > 60 * SECOND ? 0 : restarts + 1;
      const delay = Math.min(30 * SECOND, 500 * 2 ** next);
      log(`worker of GPU ${gpu.index} exited (${signal ?? code}); restarting in ${delay} ms`);
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!stopping) launch(gpu, next);
      }, delay);
      timers.add(timer);
    });
  };
  for (const gpu of gpus) launch(gpu, 0);

  return {
    children,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      stopping = true;
      for (const timer of timers) clearTimeout(timer);
      const running = [...children.values()];
      const exits = running.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r))));
      for (const child of running) child.kill(signal);
      await Promise.all(exits);
    },
  };
}
