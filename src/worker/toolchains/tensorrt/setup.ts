/**
 * What the TensorRT steps share: the worker's trtexec and GPU, the store, and how one trtexec run
 * is started and logged. Built once per worker by createTensorRtToolchain after detection.
 */
import type { BuildSpec } from '../../../core/build-spec';
import type { TensorRtTarget } from '../../../core/target';
import type { ArtifactStore } from '../../../storage/artifact-store';
import type { IdleGuard } from '../../gpu/idle-guard';
import type { StepContext } from '../toolchain';
import type { WorkerGpu } from './detect';
import { MILESTONE_PERCENT } from './log-parser';
import type { TrtexecFound } from './locate';
import { runTrtexec, type TrtexecRun } from './run-trtexec';

export interface TensorRtSetup {
  store: ArtifactStore;
  trtexec: TrtexecFound;
  gpu: WorkerGpu & { cc: string };
  /** trtexec's --device: the CUDA index of the GPU as trtexec sees it (0 when pinned by CUDA_VISIBLE_DEVICES). */
  device?: number;
  /** Added to trtexec's environment, e.g. CUDA_VISIBLE_DEVICES=<uuid>. */
  env?: Record<string, string>;
  idleGuard?: IdleGuard;
  /** How long trtexec gets between SIGTERM and SIGKILL, in ms. */
  killGraceMs: number;
  /** Who builds, in the timing-cache history. */
  workerLabel: string;
}

/**
 * The spec's target, checked against this worker: a job that reached the wrong queue (or a worker
 * registered with facts that changed) must not build an engine for a GPU it is not on.
 */
export function checkTarget(spec: BuildSpec, setup: TensorRtSetup): TensorRtTarget {
  const target = spec.target;
  const here = `TensorRT ${setup.trtexec.version} on a ${setup.gpu.name} (CC ${setup.gpu.cc}, ${setup.gpu.sku})`;
  if (target.toolchain !== 'tensorrt') throw new Error(`This worker builds TensorRT engines, not ${spec.targetKey}`);
  if (target.trt !== setup.trtexec.version || target.cc !== setup.gpu.cc || (target.sku !== undefined && target.sku !== setup.gpu.sku)) {
    throw new Error(`This worker has ${here}, which cannot build ${spec.targetKey}; the job reached the wrong queue`);
  }
  return target;
}

/** trtexec's own --device argument, when the worker names one. */
export function deviceArgs(setup: TensorRtSetup): string[] {
  if (setup.device === undefined) return [];
  if (!Number.isInteger(setup.device) || setup.device < 0 || setup.device > 1023) {
    throw new Error(`Expected a CUDA device index in [0, 1023] for device but received ${setup.device}`);
  }
  return [`--device=${setup.device}`];
}

export interface LoggedRunOptions {
  signal?: AbortSignal;
  onMilestonePercent?: (percent: number) => void;
  onSpawn?: (pid: number) => void;
}

/** Runs trtexec with every line in the build log, and its pid and argv first. */
export function loggedRun(ctx: StepContext, setup: TensorRtSetup, args: string[], options: LoggedRunOptions = {}): Promise<TrtexecRun> {
  let percent = 0;
  return runTrtexec(setup.trtexec.path, args, {
    env: setup.env,
    signal: options.signal ?? ctx.signal,
    killGraceMs: setup.killGraceMs,
    onSpawn: (pid) => {
      ctx.log(`trtexec pid ${pid}: ${setup.trtexec.path} ${args.join(' ')}`);
      options.onSpawn?.(pid);
    },
    onLine: (line, event) => {
      ctx.log(line);
      if (event.milestone && options.onMilestonePercent) {
        const p = MILESTONE_PERCENT[event.milestone];
        if (p > percent) {
          percent = p;
          options.onMilestonePercent(p);
        }
      }
    },
  });
}

/** The error a step throws when trtexec was stopped by the build's signal (cancel, timeout, shutdown). */
export function abortError(signal: AbortSignal, killed: boolean): Error {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
  return new Error(`trtexec stopped (${reason})${killed ? ' with SIGKILL after it ignored SIGTERM' : ''}`);
}
