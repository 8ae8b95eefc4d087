/**
 * Build options -> trtexec argv for a build. An allow-list: every argument is written here, in the
 * spelling the release's trtexec reads (the contract table, through gates.ts), user values only
 * fill typed slots (numbers, enum values, checked names), and every path is chosen by the worker. Options the TensorRT release or GPU does not accept
 * throw TrtOptionError before trtexec runs, worded for whoever has that release: the target at
 * submit time (checkOptionsForTarget), the worker before it builds. Arguments are always
 * `--flag=value` in one argv entry, and the process is spawned without a shell.
 */
import type { TensorRtTarget } from '../target';
import { checkPath, quoteName } from './argv-values';
import { TrtOptionError } from './errors';
import {
  accepts,
  CC_GATES,
  releaseOf,
  requireCc,
  requireDataType,
  requireFeature,
  requireTacticSource,
  requireTensorFormat,
  type GateSubject,
} from './gates';
import type { HardwareCompatibilityLevel } from './hardware-compatibility';
import {
  LAYER_NAME_PATTERN,
  LAYER_NAME_RULE,
  splitIoFormat,
  TACTIC_SOURCES,
  type ShapeProfile,
  type TacticSource,
  type TensorRtOptions,
} from './options';
import { accepts as takes, memPoolSize, type TrtexecRelease } from './trtexec-contract';
import { formatTrtVersion, parseTrtVersion, type TrtVersion } from './version';

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
  /** The TensorRT version that builds, e.g. `10.9.0`. */
  trt: string | TrtVersion;
  /** Compute capability of the build GPU, e.g. `8.9`. */
  cc: string;
  options: TensorRtOptions;
  paths: BuildPaths;
  /** The target's hardware compatibility; when given, it decides --hardwareCompatibilityLevel. */
  targetHwCompat?: HardwareCompatibilityLevel;
  /** Who has `trt` and `cc`, for the refusals' wording. */
  subject: GateSubject;
}

/** The tactic sources that are libraries, which sameComputeCapability switches off. */
const LIBRARY_SOURCES: TacticSource[] = ['cublas', 'cublasLt', 'cudnn'];

/** trtexec defaults left off the command line when the options match them. */
const TRT_DEFAULT_OPTIMIZATION_LEVEL = 3;

export function buildArgs(req: BuildArgsRequest): string[] {
  const trt = toVersion(req.trt);
  const { options, paths, cc, subject } = req;
  const release = releaseOf(trt, subject);
  const argv = [
    `--onnx=${checkPath('onnx', paths.onnx)}`,
    `--saveEngine=${checkPath('engine', paths.engine)}`,
    `--timingCacheFile=${checkPath('timingCache', paths.timingCache)}`,
    '--skipInference',
    `--exportLayerInfo=${checkPath('layerInfo', paths.layerInfo)}`,
    '--profilingVerbosity=detailed',
  ];
  argv.push(...precisionArgs(options, release, trt, cc, subject));
  if (options.profiles) argv.push(...profileArgs(options.profiles, trt, subject));
  if (options.memPoolSize) {
    requireFeature('memPoolSize', trt, subject);
    argv.push(`--memPoolSize=workspace:${options.memPoolSize.workspace}${mebibytes(release)}`);
  }
  if (options.builderOptimizationLevel !== TRT_DEFAULT_OPTIMIZATION_LEVEL) {
    requireFeature('builderOptimizationLevel', trt, subject);
    argv.push(`--builderOptimizationLevel=${options.builderOptimizationLevel}`);
  }
  // The version gate first: "sameComputeCapability needs TensorRT >= 10.9" says more than a conflict with the target.
  if (options.hardwareCompatibilityLevel !== 'none') requireFeature(options.hardwareCompatibilityLevel, trt, subject);
  const level = hardwareLevel(options.hardwareCompatibilityLevel, req.targetHwCompat);
  if (level !== 'none') {
    requireFeature(level, trt, subject);
    requireCc(level, CC_GATES[level], cc, subject);
    argv.push(`--hardwareCompatibilityLevel=${level}`);
  }
  if (options.versionCompatible) {
    requireFeature('versionCompatible', trt, subject);
    argv.push('--versionCompatible');
  }
  if (options.excludeLeanRuntime) {
    requireFeature('excludeLeanRuntime', trt, subject);
    argv.push('--excludeLeanRuntime');
  }
  const layers = Object.entries(options.layerPrecisions);
  if (layers.length > 0) {
    requireFeature('layerPrecisions', trt, subject);
    const list = layers.map(([layer, type]) => {
      requireDataType(`layerPrecisions.${layer}`, type, trt, subject);
      return `${layerName(layer, trt, subject)}:${type}`;
    });
    argv.push(`--layerPrecisions=${list.join(',')}`);
  }
  if (options.precisionConstraints !== 'none') {
    requireFeature('precisionConstraints', trt, subject);
    argv.push(`--precisionConstraints=${options.precisionConstraints}`);
  }
  for (const key of ['inputIOFormats', 'outputIOFormats'] as const) {
    if (options[key].length === 0) continue;
    requireFeature(key, trt, subject);
    argv.push(`--${key}=${options[key].map((f) => ioFormat(key, f, trt, subject)).join(',')}`);
  }
  const tactics = tacticArgs(options.tacticSources, trt, level, subject);
  if (tactics) argv.push(tactics);
  if (options.maxAuxStreams !== undefined) {
    requireFeature('maxAuxStreams', trt, subject);
    argv.push(`--maxAuxStreams=${options.maxAuxStreams}`);
  }
  if (options.stripWeights) {
    requireFeature('stripWeights', trt, subject);
    // Not --refit as well: stripping alone keeps the engine refittable with the build's own weights
    // (10.x: kSTRIP_PLAN turns on kREFIT_IDENTICAL, "the same performance as a non-refittable one";
    // 9.2: kWEIGHTLESS "with no impact to runtime performance"). --refit on top strips every weight.
    argv.push(takes(release, '--stripWeights') ? '--stripWeights' : '--weightless');
  }
  if (options.refit) {
    requireFeature('refit', trt, subject);
    argv.push('--refit');
  }
  if (options.calibration) {
    requireFeature('calibration', trt, subject);
    if (!paths.calib) throw new Error(`Expected paths.calib for calibration ${options.calibration} but received none`);
    argv.push(`--calib=${checkPath('calib', paths.calib)}`);
  }
  return argv;
}

/** Paths for the submit-time check: nothing is read or written then. */
const PLACEHOLDER_PATHS: BuildPaths = {
  onnx: '/submit-check/model.onnx',
  engine: '/submit-check/engine.plan',
  timingCache: '/submit-check/timing.cache',
  layerInfo: '/submit-check/layer-info.json',
  calib: '/submit-check/calibration.cache',
};

/**
 * Throws TrtOptionError when a target's TensorRT release or GPU does not accept the options. A
 * target key names both, and a worker only takes jobs of its own (checkTarget on the worker), so
 * what the worker would refuse is refused at submit, by the same rules.
 */
export function checkOptionsForTarget(target: TensorRtTarget, options: TensorRtOptions): void {
  buildArgs({ trt: target.trt, cc: target.cc, options, paths: PLACEHOLDER_PATHS, targetHwCompat: target.hwCompat, subject: 'target' });
}

function precisionArgs(options: TensorRtOptions, release: TrtexecRelease, trt: TrtVersion, cc: string, subject: GateSubject): string[] {
  const argv: string[] = [];
  for (const p of options.precision) {
    requireFeature(p, trt, subject);
    if (p === 'bf16' || p === 'fp8') requireCc(p, CC_GATES[p], cc, subject);
    // From 11.0 every network is strongly typed and --stronglyTyped is a deprecated no-op: not written.
    if (release.options[`--${p}`].deprecated) continue;
    argv.push(`--${p}`);
  }
  return argv;
}

/**
 * How --memPoolSize says mebibytes: a bare number up to 9.3; a bare number in 10.0 too, where a
 * unit suffix would multiply the MiB value again; `M` from 10.1, which reads bytes with suffixes.
 */
function mebibytes(release: TrtexecRelease): string {
  const pool = memPoolSize(release);
  return pool.unitSuffixes.includes('M') && !pool.suffixMultipliesMiB ? 'M' : '';
}

/** One profile as --minShapes/--optShapes/--maxShapes; several as `--profile=i` followed by its three (9.0+). */
function profileArgs(profiles: ShapeProfile[], trt: TrtVersion, subject: GateSubject): string[] {
  if (profiles.length > 1) requireFeature('several profiles', trt, subject, 'more than one optimization profile');
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

function hardwareLevel(fromOptions: HardwareCompatibilityLevel, targetHwCompat: HardwareCompatibilityLevel | undefined): HardwareCompatibilityLevel {
  if (targetHwCompat === undefined) return fromOptions;
  if (fromOptions !== 'none' && fromOptions !== targetHwCompat) {
    throw new TrtOptionError(`hardwareCompatibilityLevel ${fromOptions} conflicts with the target's hwCompat ${targetHwCompat}; set it in one place`);
  }
  return targetHwCompat;
}

function tacticArgs(sources: TensorRtOptions['tacticSources'], trt: TrtVersion, level: HardwareCompatibilityLevel, subject: GateSubject): string | null {
  const entries = (Object.keys(TACTIC_SOURCES) as TacticSource[])
    .filter((key) => sources[key] !== undefined)
    .map((key) => [key, sources[key] as boolean] as const);
  if (entries.length === 0) return null;
  requireFeature('tacticSources', trt, subject);
  const list = entries.map(([key, on]) => {
    requireTacticSource(`tactic source ${key}`, TACTIC_SOURCES[key], trt, subject);
    // NvInfer.h: kSAME_COMPUTE_CAPABILITY "will disable cuDNN, cuBLAS, and cuBLASLt as tactic sources".
    if (on && LIBRARY_SOURCES.includes(key) && level === 'sameComputeCapability') {
      throw new TrtOptionError(`tactic source ${key} cannot be enabled with sameComputeCapability, which disables cuDNN, cuBLAS and cuBLASLt`);
    }
    return `${on ? '+' : '-'}${TACTIC_SOURCES[key]}`;
  });
  return `--tacticSources=${list.join(',')}`;
}

/** A layerPrecisions name: `*` alone from 8.6, one `*` inside a name from 9.0. */
function layerName(layer: string, trt: TrtVersion, subject: GateSubject): string {
  if (layer.includes('*') && layer !== '*') {
    requireFeature('a * inside a layer name', trt, subject, `layerPrecisions name ${JSON.stringify(layer)} (TensorRT 8.6 reads * only as a whole name, meaning every other layer)`);
  }
  return quoteName('layerPrecisions', layer, LAYER_NAME_PATTERN, LAYER_NAME_RULE);
}

/** An I/O format in the spelling the release reads: type:layout before 11.0, the layout alone from 11.0. */
function ioFormat(label: string, format: string, trt: TrtVersion, subject: GateSubject): string {
  const { type, layouts } = splitIoFormat(format);
  const has = `; this ${subject} has ${formatTrtVersion(trt)}`;
  if (type && !accepts('type:layout I/O formats', trt)) {
    throw new TrtOptionError(
      `Expected ${label} as a memory layout only on TensorRT >= 11.0 (e.g. ${layouts.join('+')}: the strongly typed network sets the type) but received ${format}${has}`,
    );
  }
  if (!type && !accepts('layout-only I/O formats', trt)) {
    throw new TrtOptionError(`Expected ${label} as type:layout before TensorRT 11.0 (e.g. fp32:${layouts.join('+')}) but received ${format}${has}`);
  }
  if (type) requireDataType(label, type, trt, subject);
  for (const layout of layouts) requireTensorFormat(label, layout, trt, subject);
  return format;
}

/**
 * The BuilderFlags a build's argv sets, as the release's sampleEngines.cpp sets them (the table's
 * builderFlag): what the engine is, stated in TensorRT's own terms for the report (kSTRIP_PLAN,
 * kREFIT, kVERSION_COMPATIBLE, ...).
 */
export function builderFlagsOf(argv: string[], trt: string | TrtVersion): string[] {
  const release = releaseOf(toVersion(trt), 'worker');
  const flags = argv.map((arg) => release.options[arg.split('=')[0]]?.builderFlag).filter((flag): flag is string => flag !== undefined);
  return [...new Set(flags)];
}

export function toVersion(trt: string | TrtVersion): TrtVersion {
  return typeof trt === 'string' ? parseTrtVersion(trt) : trt;
}
