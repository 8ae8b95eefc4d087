/**
 * Build options -> trtexec argv. An allow-list: every argument comes from a table in this file or
 * option-gates.ts, user values only fill typed slots (numbers, enum values, checked names), and
 * every path is chosen by the worker. Options this worker's TensorRT or GPU does not accept throw
 * TrtOptionError before trtexec runs. Arguments are always `--flag=value` in one argv entry
 * (trtexec splits an option from its value on the first `=`), and the process is spawned without
 * a shell.
 */
import type { HwCompat } from '../target';
import { TrtOptionError } from './errors';
import {
  CC_GATES,
  DATA_TYPE_SINCE,
  requireCc,
  requireFeature,
  requireVersion,
  TACTIC_SOURCE_UNTIL,
  TENSOR_FORMAT_SINCE,
} from './gates';
import {
  NAME_PATTERN,
  NAME_RULE,
  TACTIC_SOURCES,
  type HardwareCompatibilityLevel,
  type ShapeProfile,
  type TacticSource,
  type TensorRtOptions,
  type TrtDataType,
} from './options';
import { parseTrtVersion, trtAtLeast, type TrtVersion } from './version';

export interface BuildPaths {
  onnx: string;
  engine: string;
  /** The fleet timing cache copy trtexec reads and grows in place. */
  timingCache: string;
  layerInfo: string;
  /** Local copy of the INT8 calibration cache, when options.calibration names one. */
  calib?: string;
}

export interface BuildArgsRequest {
  /** This worker's TensorRT version, e.g. `10.9.0`. */
  trt: string | TrtVersion;
  /** Compute capability of the build GPU, e.g. `8.9`. */
  cc: string;
  options: TensorRtOptions;
  paths: BuildPaths;
  /** The target's hardware compatibility; when given, it decides --hardwareCompatibilityLevel. */
  targetHwCompat?: HwCompat;
}

/** trtexec defaults left off the command line when the options match them. */
const TRT_DEFAULT_OPTIMIZATION_LEVEL = 3;

const TARGET_LEVEL: Record<HwCompat, HardwareCompatibilityLevel> = {
  none: 'none',
  'ampere+': 'ampere+',
  'same-cc': 'sameComputeCapability',
};

export function buildArgs(req: BuildArgsRequest): string[] {
  const trt = toVersion(req.trt);
  const { options, paths, cc } = req;
  requireVersion('Kiln', { since: '8.6' }, trt);
  const argv = [
    `--onnx=${checkPath('onnx', paths.onnx)}`,
    `--saveEngine=${checkPath('engine', paths.engine)}`,
    `--timingCacheFile=${checkPath('timingCache', paths.timingCache)}`,
    '--skipInference',
    `--exportLayerInfo=${checkPath('layerInfo', paths.layerInfo)}`,
    '--profilingVerbosity=detailed',
  ];
  argv.push(...precisionArgs(options, trt, cc));
  if (options.profiles) argv.push(...profileArgs(options.profiles, trt));
  if (options.memPoolSize) {
    requireFeature('memPoolSize', trt);
    // 10.0 multiplies a suffixed value again by MiB; from 10.1 a bare number means MiB and `M` says so.
    const unit = trtAtLeast(trt, '10.1') ? 'M' : '';
    argv.push(`--memPoolSize=workspace:${options.memPoolSize.workspace}${unit}`);
  }
  if (options.builderOptimizationLevel !== TRT_DEFAULT_OPTIMIZATION_LEVEL) {
    requireFeature('builderOptimizationLevel', trt);
    argv.push(`--builderOptimizationLevel=${options.builderOptimizationLevel}`);
  }
  // The version gate first: "sameComputeCapability needs TensorRT >= 10.9" says more than a conflict with the target.
  if (options.hardwareCompatibilityLevel !== 'none') requireFeature(options.hardwareCompatibilityLevel, trt);
  const level = hardwareLevel(options.hardwareCompatibilityLevel, req.targetHwCompat);
  if (level !== 'none') {
    requireFeature(level, trt);
    requireCc(level, CC_GATES[level], cc);
    argv.push(`--hardwareCompatibilityLevel=${level}`);
  }
  if (options.versionCompatible) {
    requireFeature('versionCompatible', trt);
    argv.push('--versionCompatible');
  }
  if (options.excludeLeanRuntime) {
    requireFeature('excludeLeanRuntime', trt);
    argv.push('--excludeLeanRuntime');
  }
  const layers = Object.entries(options.layerPrecisions);
  if (layers.length > 0) {
    requireFeature('layerPrecisions', trt);
    const list = layers.map(([layer, type]) => `${quoteName('layerPrecisions', layer)}:${checkDataType(`layerPrecisions.${layer}`, type, trt)}`);
    argv.push(`--layerPrecisions=${list.join(',')}`);
  }
  if (options.precisionConstraints !== 'none') {
    requireFeature('layerPrecisions', trt, 'precisionConstraints');
    argv.push(`--precisionConstraints=${options.precisionConstraints}`);
  }
  for (const key of ['inputIOFormats', 'outputIOFormats'] as const) {
    if (options[key].length === 0) continue;
    requireFeature(key, trt);
    argv.push(`--${key}=${options[key].map((f) => checkIoFormat(key, f, trt)).join(',')}`);
  }
  const tactics = tacticArgs(options.tacticSources, trt, level);
  if (tactics) argv.push(tactics);
  if (options.maxAuxStreams !== undefined) {
    requireFeature('maxAuxStreams', trt);
    argv.push(`--maxAuxStreams=${options.maxAuxStreams}`);
  }
  if (options.stripWeights) {
    requireFeature('stripWeights', trt);
    argv.push('--stripWeights');
  }
  if (options.refit) {
    requireFeature('refit', trt);
    argv.push('--refit');
  }
  if (options.calibration) {
    requireFeature('calibration', trt);
    if (!paths.calib) throw new Error(`Expected paths.calib for calibration ${options.calibration} but received none`);
    argv.push(`--calib=${checkPath('calib', paths.calib)}`);
  }
  return argv;
}

function precisionArgs(options: TensorRtOptions, trt: TrtVersion, cc: string): string[] {
  const argv: string[] = [];
  for (const p of options.precision) {
    requireFeature(p, trt);
    if (p === 'bf16' || p === 'fp8') requireCc(p, CC_GATES[p], cc);
    // From 11.0 every network is strongly typed and the flag is a deprecated no-op.
    if (p === 'stronglyTyped' && trtAtLeast(trt, '11.0')) continue;
    argv.push(`--${p}`);
  }
  return argv;
}

/** One profile as --minShapes/--optShapes/--maxShapes; several as `--profile=i` followed by its three (9.0+). */
function profileArgs(profiles: ShapeProfile[], trt: TrtVersion): string[] {
  if (profiles.length > 1) requireFeature('several profiles', trt, 'more than one optimization profile');
  const argv: string[] = [];
  profiles.forEach((profile, i) => {
    if (profiles.length > 1) argv.push(`--profile=${i}`);
    for (const which of ['min', 'opt', 'max'] as const) {
      const list = Object.entries(profile).map(([input, range]) => `${quoteName('profiles', input)}:${range[which].join('x')}`);
      argv.push(`--${which}Shapes=${list.join(',')}`);
    }
  });
  return argv;
}

function hardwareLevel(fromOptions: HardwareCompatibilityLevel, targetHwCompat: HwCompat | undefined): HardwareCompatibilityLevel {
  if (targetHwCompat === undefined) return fromOptions;
  const fromTarget = TARGET_LEVEL[targetHwCompat];
  if (fromOptions !== 'none' && fromOptions !== fromTarget) {
    throw new TrtOptionError(`hardwareCompatibilityLevel ${fromOptions} conflicts with the target's hwCompat ${targetHwCompat}; set it in one place`);
  }
  return fromTarget;
}

function tacticArgs(sources: TensorRtOptions['tacticSources'], trt: TrtVersion, level: HardwareCompatibilityLevel): string | null {
  const entries = (Object.keys(TACTIC_SOURCES) as TacticSource[])
    .filter((key) => sources[key] !== undefined)
    .map((key) => [key, sources[key] as boolean] as const);
  if (entries.length === 0) return null;
  requireFeature('tacticSources', trt);
  const list = entries.map(([key, on]) => {
    const until = TACTIC_SOURCE_UNTIL[key];
    if (until) requireVersion(`tactic source ${key}`, { since: '8.6', until }, trt);
    // NvInfer.h: kSAME_COMPUTE_CAPABILITY "will disable cuDNN, cuBLAS, and cuBLASLt as tactic sources".
    if (on && until && level === 'sameComputeCapability') {
      throw new TrtOptionError(`tactic source ${key} cannot be enabled with sameComputeCapability, which disables cuDNN, cuBLAS and cuBLASLt`);
    }
    return `${on ? '+' : '-'}${TACTIC_SOURCES[key]}`;
  });
  return `--tacticSources=${list.join(',')}`;
}

function checkDataType(label: string, type: TrtDataType, trt: TrtVersion): TrtDataType {
  requireVersion(`${label} type ${type}`, { since: DATA_TYPE_SINCE[type] }, trt);
  return type;
}

function checkIoFormat(label: string, format: string, trt: TrtVersion): string {
  const [type, layouts] = format.split(':');
  checkDataType(label, type as TrtDataType, trt);
  for (const layout of layouts.split('+')) {
    const since = TENSOR_FORMAT_SINCE[layout];
    if (since) requireVersion(`${label} format ${layout}`, { since }, trt);
  }
  return format;
}

// ---------------------------------------------------------------------------------------------
// Inference: validation (outputs for given inputs) and benchmarking (timings per batch size).

interface InferenceCommon {
  trt: string | TrtVersion;
  engine: string;
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
}

export type InferenceRun = ValidationRun | BenchmarkRun;

export function inferenceArgs(run: InferenceRun): string[] {
  const trt = toVersion(run.trt);
  requireVersion('Kiln', { since: '8.6' }, trt);
  const argv = [`--loadEngine=${checkPath('engine', run.engine)}`];
  if (run.shapes && Object.keys(run.shapes).length > 0) {
    const list = Object.entries(run.shapes).map(([input, dims]) => `${quoteName('shapes', input)}:${checkDims(input, dims)}`);
    argv.push(`--shapes=${list.join(',')}`);
  }
  if (run.profileIndex !== undefined && run.profileIndex !== 0) {
    checkCount('profileIndex', run.profileIndex, 0, 1023);
    requireFeature('useProfile', trt, `optimization profile ${run.profileIndex}`);
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
  // Spin-wait steadies GPU timings; from 11.0 it is the default and the flag only warns. 11.0 also
  // stops timing host<->device copies unless asked, and the report wants H2D/D2H.
  argv.push(...(trtAtLeast(trt, '11.0') ? ['--includeDataTransfers'] : ['--useSpinWait']));
  return argv;
}

// ---------------------------------------------------------------------------------------------

function toVersion(trt: string | TrtVersion): TrtVersion {
  return typeof trt === 'string' ? parseTrtVersion(trt) : trt;
}

/**
 * A name inside a list argument. NAME_PATTERN keeps out `,` `=` `'` and a leading `-`; a name with
 * `:` is wrapped in single quotes, which trtexec's splitNameAndValue reads as the whole name.
 */
export function quoteName(label: string, name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new TrtOptionError(`Expected ${label} to name tensors or layers of ${NAME_RULE} but received ${JSON.stringify(name)}`);
  }
  return name.includes(':') ? `'${name}'` : name;
}

/** Worker-chosen paths still go through a check: absolute, and nothing trtexec would split on. */
function checkPath(label: string, path: string): string {
  if (!path.startsWith('/') || /[,:'"\s=]/.test(path) || path.includes('\0')) {
    throw new Error(`Expected an absolute path without , : ' " = or spaces for ${label} but received ${JSON.stringify(path)}`);
  }
  return path;
}

function checkDims(input: string, dims: number[]): string {
  if (!Array.isArray(dims) || dims.length === 0 || dims.length > 8 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
    throw new TrtOptionError(`Expected 1-8 positive integer dims for shapes.${input} but received ${JSON.stringify(dims)}`);
  }
  return dims.join('x');
}

function checkCount(label: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TrtOptionError(`Expected an integer in [${min}, ${max}] for ${label} but received ${value}`);
  }
}
