/**
 * The submit-time check of TensorRT options against a target. A TensorRT target key names the
 * TensorRT version and compute capability (`trt8.6.1-sm75`), and a worker only takes jobs of its
 * own version and CC (setup.ts, checkTarget), so what buildArgs would refuse on the worker can be
 * refused when the request is submitted, with the same gate. This runs buildArgs itself, with
 * placeholder paths, so the rules live in one place (build-argv.ts, gates.ts); the worker still
 * runs it again right before trtexec, as the authority on what its trtexec accepts.
 */
import type { HwCompat } from '../target';
import { buildArgs, type BuildPaths } from './build-argv';
import { TrtOptionError } from './errors';
import type { TensorRtOptions } from './options';

export interface TensorRtOptionsCheck {
  /** The target's TensorRT version, e.g. `8.6.1`. */
  trt: string;
  /** The target's compute capability, e.g. `7.5`. */
  cc: string;
  options: TensorRtOptions;
  targetHwCompat?: HwCompat;
}

/** buildArgs wants real-looking paths; nothing is read or written at submit time. */
const PLACEHOLDER_PATHS: BuildPaths = {
  onnx: '/submit-check/model.onnx',
  engine: '/submit-check/engine.plan',
  timingCache: '/submit-check/timing.cache',
  layerInfo: '/submit-check/layer-info.json',
  calib: '/submit-check/calibration.cache',
};

/**
 * Throws TrtOptionError when the target's TensorRT or GPU does not accept the options, worded for
 * a target ("sameComputeCapability needs TensorRT >= 10.9; this target has 8.6.1").
 */
export function checkTensorRtOptions(check: TensorRtOptionsCheck): void {
  try {
    buildArgs({ trt: check.trt, cc: check.cc, options: check.options, paths: PLACEHOLDER_PATHS, targetHwCompat: check.targetHwCompat });
  } catch (err) {
    // The gates speak of "this worker"; at submit time it is the target that has the version and CC.
    if (err instanceof TrtOptionError) throw new TrtOptionError(err.message.replace(/; this worker has /g, '; this target has '));
    throw err;
  }
}
