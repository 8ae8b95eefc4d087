/**
 * trtexec argv for runs on a built engine: validation (outputs for given inputs) and benchmarking
 * (timings per batch size). Like the build's, every argument is written here from typed values,
 * and every path is the worker's. How the engine must be loaded (engine-loading.ts) is part of
 * every run: an engine is only ever run the way it can be deployed.
 */
import { checkCount, checkDims, checkPath, quoteName } from './argv-values';
import { toVersion } from './build-argv';
import type { EngineLoading } from './engine-loading';
import { TrtOptionError } from './errors';
import { releaseOf, requireFeature } from './gates';
import { accepts, loadSide, type TrtexecRelease } from './trtexec-contract';
import type { TrtVersion } from './version';

interface InferenceCommon {
  trt: string | TrtVersion;
  engine: string;
  /** How the engine loads; `refitFromOnnx` then needs `onnx`. (Default: as a plain engine) */
  loading?: EngineLoading;
  /** The ONNX the engine was built from, for refitting its weights at load. */
  onnx?: string;
  /** Concrete shapes for inputs with dynamic dims, as --shapes. (Default: the engine's own shapes) */
  shapes?: Record<string, number[]>;
  /** Which optimization profile to run (TensorRT >= 9.0 for any but 0). (Default: 0) */
  profileIndex?: number;
}

export interface ValidationRun extends InferenceCommon {
  kind: 'validate';
  /** Input name -> raw binary file in the input's type and shape, as --loadInputs. */
  inputs: Record<string, string>;
  /** Where trtexec writes the output tensors as JSON (--exportOutput). */
  exportOutput: string;
}

export interface BenchmarkRun extends InferenceCommon {
  kind: 'benchmark';
  /** At least this many timed runs. (Default: 10, trtexec's) */
  iterations?: number;
  /** At least this many seconds of timed runs. (Default: 3, trtexec's) */
  durationSeconds?: number;
  /** Milliseconds of warm-up before timing. (Default: 200, trtexec's) */
  warmUpMs?: number;
  /** Percentiles reported. (Default: [90, 95, 99], which the report's LatencyStats needs) */
  percentiles?: number[];
  /**
   * Where trtexec writes the per-layer profile (--exportProfile), profiled in a run of its own
   * (--separateProfileRun) so the timed runs stay unsynchronised. (Default: none, no profile)
   */
  exportProfile?: string;
}

export type InferenceRun = ValidationRun | BenchmarkRun;

export function inferenceArgs(run: InferenceRun): string[] {
  const trt = toVersion(run.trt);
  // Runs happen on the worker only: the engine exists there.
  const release = releaseOf(trt, 'worker');
  const argv = [`--loadEngine=${checkPath('engine', run.engine)}`, ...loadArgs(run.loading, run.onnx, release, trt)];
  if (run.shapes && Object.keys(run.shapes).length > 0) {
    const list = Object.entries(run.shapes).map(([input, dims]) => `${quoteName('shapes', input)}:${checkDims(input, dims)}`);
    argv.push(`--shapes=${list.join(',')}`);
  }
  if (run.profileIndex !== undefined && run.profileIndex !== 0) {
    checkCount('profileIndex', run.profileIndex, 0, 1023);
    requireFeature('useProfile', trt, 'worker', `optimization profile ${run.profileIndex}`);
    argv.push(`--useProfile=${run.profileIndex}`);
  }
  if (run.kind === 'validate') {
    const inputs = Object.entries(run.inputs).map(([input, file]) => `${quoteName('inputs', input)}:${checkPath(`inputs.${input}`, file)}`);
    if (inputs.length > 0) argv.push(`--loadInputs=${inputs.join(',')}`);
    // One inference is enough to compare outputs; skip warm-up and the timing window.
    argv.push(`--exportOutput=${checkPath('exportOutput', run.exportOutput)}`, '--iterations=1', '--warmUp=0', '--duration=0');
    return argv;
  }
  const iterations = run.iterations ?? 10;
  const duration = run.durationSeconds ?? 3;
  const warmUp = run.warmUpMs ?? 200;
  const percentiles = run.percentiles ?? [90, 95, 99];
  checkCount('iterations', iterations, 1, 1_000_000);
  checkCount('durationSeconds', duration, 0, 3600);
  checkCount('warmUpMs', warmUp, 0, 600_000);
  for (const p of percentiles) {
    if (!(Number.isFinite(p) && p >= 0 && p <= 100)) throw new TrtOptionError(`Expected percentiles in [0, 100] but received ${p}`);
  }
  argv.push(`--iterations=${iterations}`, `--duration=${duration}`, `--warmUp=${warmUp}`, `--percentile=${percentiles.join(',')}`);
  // Spin-wait steadies GPU timings; from 11.0 it is the default and --useSpinWait a deprecated
  // no-op. The same release stops timing host<->device copies unless --includeDataTransfers asks,
  // and the report wants H2D/D2H.
  argv.push(...(accepts(release, '--includeDataTransfers') ? ['--includeDataTransfers'] : ['--useSpinWait']));
  if (run.exportProfile !== undefined) {
    argv.push(`--exportProfile=${checkPath('exportProfile', run.exportProfile)}`);
    if (accepts(release, '--separateProfileRun')) argv.push('--separateProfileRun');
  }
  return argv;
}

/** The options every run on an engine carries to load it, by name (`--refit`, ...): for the report. */
export function loadOptionNames(loading: EngineLoading, trt: string | TrtVersion): string[] {
  if (loading.cannotRun) return [];
  const version = toVersion(trt);
  return loadArgs(loading, '/worker/model.onnx', releaseOf(version, 'worker'), version).map((arg) => arg.split('=')[0]);
}

/** The load-side opt-ins the engine needs; an engine that cannot be run as built is never run. */
function loadArgs(loading: EngineLoading | undefined, onnx: string | undefined, release: TrtexecRelease, trt: TrtVersion): string[] {
  if (!loading) return [];
  if (loading.cannotRun) throw new Error(`Expected an engine trtexec can run as built but ${loading.cannotRun}`);
  const side = loadSide(release);
  const argv: string[] = [];
  if (loading.hostCode) {
    requireFeature('versionCompatible', trt, 'worker');
    argv.push(side.versionCompatible.includes('--versionCompatible') ? '--versionCompatible' : side.versionCompatible[0]);
  }
  if (loading.refitFromOnnx) {
    requireFeature('refitFromOnnx', trt, 'worker');
    if (!onnx) throw new Error('Expected the ONNX path to refit a weight-stripped engine from (onnx) but received none');
    // trtexec refits only when the options the refit's gate requires are on the command line too
    // (--refit: trtexec.cpp, `if (supportDeserialization && options.build.refittable)`, 10.14 to
    // 11.1); without them --refitFromOnnx is ignored and the engine would run without its weights.
    const refit = side.refitFromOnnx!;
    argv.push(...refit.requires, `${refit.option}=${checkPath('onnx', onnx)}`);
  }
  return argv;
}
