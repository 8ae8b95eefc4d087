/**
 * Which TensorRT releases (and GPUs) accept what, for every option Kiln maps onto trtexec.
 *
 * Every version gate was read from trtexec's own parser, samples/common/sampleOptions.cpp of
 * NVIDIA/TensorRT, on each release branch from release/8.6 to release/11.1: a flag "exists" in a
 * release when that branch's BuildOptions::parse / InferenceOptions::parse calls getAndDelOption
 * for it (an unknown flag ends trtexec with `[E] Unknown option` and FAILED). `until` is the first
 * release without it. GPU gates cite NvInfer.h (release/10.9) and the TensorRT support matrix.
 *
 * A gate speaks of whoever has the TensorRT version and GPU: the target of a request at submit
 * time ("this target has 8.6.1"), the worker right before trtexec runs ("this worker has 8.6.1").
 */
import { BUILD_CC_MINIMUM } from './hardware-compatibility';
import { TrtOptionError } from './errors';
import type { TacticSource, TensorFormat, TrtDataType } from './options';
import { ccNumber, compareTrtVersions, formatTrtVersion, type TrtVersion } from './version';

/** Who has the TensorRT version and GPU a gate checks. */
export type GateSubject = 'target' | 'worker';

export interface VersionGate {
  /** First TensorRT version that accepts it (major.minor). */
  since: string;
  /** First version that no longer accepts it, when one does not. */
  until?: string;
  /** Why it went away, when it did. */
  untilReason?: string;
}

const STRONGLY_TYPED_ONLY = 'networks are strongly typed from TensorRT 11.0';

/** Flags, by the name a user knows them by. */
export const GATES = {
  // release/8.6 parses --fp16, --int8, --fp8, --best, --noTF32; release/11.0 parses none of
  // --fp16/--bf16/--fp8/--best (and --int8 only for the safety proxy), strongly typed by default.
  fp16: { since: '8.6', until: '11.0', untilReason: STRONGLY_TYPED_ONLY },
  int8: { since: '8.6', until: '11.0', untilReason: STRONGLY_TYPED_ONLY },
  fp8: { since: '8.6', until: '11.0', untilReason: STRONGLY_TYPED_ONLY },
  best: { since: '8.6', until: '11.0', untilReason: STRONGLY_TYPED_ONLY },
  noTF32: { since: '8.6' },
  // --bf16 and --stronglyTyped first appear in release/9.0.
  bf16: { since: '9.0', until: '11.0', untilReason: STRONGLY_TYPED_ONLY },
  stronglyTyped: { since: '9.0' },
  // --memPoolSize exists in 8.6; unit suffixes (B/K/M/G, default M) from release/10.1
  // (addDefaultUnitSuffixIfNotSpecified); in 10.0 a suffix multiplies the MiB value, so none is written there.
  memPoolSize: { since: '8.6' },
  builderOptimizationLevel: { since: '8.6' },
  // --hardwareCompatibilityLevel exists in 8.6 (none, ampere+); sameComputeCapability from release/10.9.
  'ampere+': { since: '8.6' },
  sameComputeCapability: { since: '10.9' },
  versionCompatible: { since: '8.6' },
  excludeLeanRuntime: { since: '8.6' },
  // --layerPrecisions/--precisionConstraints/--calib are gone in release/11.0.
  layerPrecisions: { since: '8.6', until: '11.0', untilReason: STRONGLY_TYPED_ONLY },
  // release/8.6 setLayerPrecisions (sampleEngines.cpp) reads "*" only as a whole name, the default
  // for every other layer; release/9.0 matches names with one "*" (findPlausible, sampleUtils.h).
  'a * inside a layer name': { since: '9.0' },
  calibration: { since: '8.6', until: '11.0', untilReason: STRONGLY_TYPED_ONLY },
  inputIOFormats: { since: '8.6' },
  outputIOFormats: { since: '8.6' },
  // stringToValue<IOFormat> splits type:formats up to release/10.16; release/11.0 parses formats
  // only (IOFormat{stringToValue<TensorFormats>(option)}) and throws "Invalid TensorFormat fp16".
  'type:layout I/O formats': { since: '8.6', until: '11.0', untilReason: 'from TensorRT 11.0 an I/O format is a memory layout only: the strongly typed network sets the type' },
  'layout-only I/O formats': { since: '11.0' },
  tacticSources: { since: '8.6' },
  maxAuxStreams: { since: '8.6' },
  // --weightless first appears in release/9.2; release/10.0 adds --stripWeights and keeps
  // --weightless as a deprecated alias; release/11.0 parses only --stripWeights.
  stripWeights: { since: '9.2' },
  '--weightless': { since: '9.2', until: '11.0' },
  '--stripWeights': { since: '10.0' },
  refit: { since: '8.6' },
  // --refitFromOnnx (InferenceOptions::parse) first appears in release/10.14.
  refitFromOnnx: { since: '10.14' },
  // --profile (several optimization profiles) and --useProfile first appear in release/9.0.
  'several profiles': { since: '9.0' },
  useProfile: { since: '9.0' },
} satisfies Record<string, VersionGate>;

export type GatedFeature = keyof typeof GATES;

/** Data type names in stringToValue<nvinfer1::DataType>: 8.6 knows fp32/fp16/int8/fp8/int32; 9.0 adds bf16, int64, bool, uint8; 10.1 adds int4. */
export const DATA_TYPE_SINCE: Record<TrtDataType, string> = {
  fp32: '8.6', fp16: '8.6', int8: '8.6', fp8: '8.6', int32: '8.6',
  bf16: '9.0', int64: '9.0', bool: '9.0', uint8: '9.0',
  int4: '10.1',
};

/** Tensor format names: all of 8.6's list, plus hwc16 from release/10.10. */
export const TENSOR_FORMAT_SINCE: Partial<Record<TensorFormat, string>> = { hwc16: '10.10' };

/** Tactic sources: release/11.0 parses only EDGE_MASK_CONVOLUTIONS and JIT_CONVOLUTIONS. */
export const TACTIC_SOURCE_UNTIL: Partial<Record<TacticSource, string>> = { cublas: '11.0', cublasLt: '11.0', cudnn: '11.0' };

/** GPU gates, by compute capability of the build GPU. */
export const CC_GATES = {
  ...BUILD_CC_MINIMUM,
  // sampleOptions.cpp (10.x) turns bf16 on for --best only when getSMVersion() >= 0x0800: "BF16 only supported on Ampere+".
  bf16: '8.0',
  // TensorRT support matrix (10.x, Hardware and Precision): FP8 on CC 8.9 (Ada) and 9.0 (Hopper) and later.
  fp8: '8.9',
} as const;

/** Throws TrtOptionError unless `trt` is within the gate. */
export function requireVersion(label: string, gate: VersionGate, trt: TrtVersion, subject: GateSubject): void {
  if (compareTrtVersions(trt, gate.since) < 0) {
    throw new TrtOptionError(`${label} needs TensorRT >= ${gate.since}; this ${subject} has ${formatTrtVersion(trt)}`);
  }
  if (gate.until && compareTrtVersions(trt, gate.until) >= 0) {
    const why = gate.untilReason ? ` (${gate.untilReason})` : '';
    throw new TrtOptionError(`${label} is not accepted from TensorRT ${gate.until}${why}; this ${subject} has ${formatTrtVersion(trt)}`);
  }
}

export function requireFeature(feature: GatedFeature, trt: TrtVersion, subject: GateSubject, label: string = feature): void {
  requireVersion(label, GATES[feature], trt, subject);
}

/** Whether `trt` accepts the feature, for choosing between spellings rather than refusing. */
export function accepts(feature: GatedFeature, trt: TrtVersion): boolean {
  const gate: VersionGate = GATES[feature];
  return compareTrtVersions(trt, gate.since) >= 0 && !(gate.until && compareTrtVersions(trt, gate.until) >= 0);
}

/** Throws TrtOptionError unless the build GPU's compute capability is at least `minimum`. */
export function requireCc(label: string, minimum: string, cc: string, subject: GateSubject): void {
  if (ccNumber(cc) < ccNumber(minimum)) {
    throw new TrtOptionError(`${label} needs a GPU of compute capability >= ${minimum}; this ${subject} has ${cc}`);
  }
}
