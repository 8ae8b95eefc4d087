/**
 * What loading a built engine takes, decided once from its build options and the TensorRT release
 * that built it, for every run on it (validation, benchmark) and for what the report says.
 *
 * - A version-compatible plan embeds the lean runtime (host code) unless built with
 *   excludeLeanRuntime, and TensorRT deserializes host code only when the loader opts in
 *   (IRuntime::setEngineHostCodeAllowed(true); trtexec does so for `--versionCompatible`,
 *   sampleEngines.cpp, release/8.6 to release/11.1).
 * - A weight-stripped plan (`--weightless` on 9.2/9.3, `--stripWeights` from 10.0) holds no
 *   weights: run as it is, it computes with none. trtexec refits it from the ONNX when it loads it
 *   with `--refit --refitFromOnnx=<model>` from release/10.14 (InferenceOptions::parse, trtexec.cpp's
 *   refitFromOnnx); before that trtexec has no way to put the weights back, so Kiln does not run
 *   it at all rather than report numbers of an engine without weights.
 */
import { accepts } from './gates';
import type { TensorRtOptions } from './options';
import { formatTrtVersion, type TrtVersion } from './version';

export interface EngineLoading {
  /** The loader must allow embedded host code: trtexec `--versionCompatible` on runs that load it. */
  hostCode: boolean;
  /** The plan holds no weights; runs refit them from the ONNX at load (`--refit --refitFromOnnx`). */
  refitFromOnnx: boolean;
  /** Why trtexec cannot run the engine as it was built, when it cannot: no run is made on it. */
  cannotRun?: string;
}

type LoadOptions = Pick<TensorRtOptions, 'versionCompatible' | 'excludeLeanRuntime' | 'stripWeights'>;

export function engineLoading(options: LoadOptions, trt: TrtVersion): EngineLoading {
  const loading: EngineLoading = { hostCode: options.versionCompatible && !options.excludeLeanRuntime, refitFromOnnx: false };
  if (!options.stripWeights) return loading;
  if (accepts('refitFromOnnx', trt)) return { ...loading, refitFromOnnx: true };
  return {
    ...loading,
    cannotRun:
      `the engine was built without its weights (stripWeights) by TensorRT ${formatTrtVersion(trt)}, whose trtexec cannot refit them at load ` +
      '(--refitFromOnnx needs TensorRT >= 10.14), so validation and the benchmark were not run on it: refit it from the same ONNX before use ' +
      '(TensorRT\'s refitter, or trtexec --refitFromOnnx on TensorRT >= 10.14)',
  };
}
