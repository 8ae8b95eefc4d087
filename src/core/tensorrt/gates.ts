/**
 * Which TensorRT releases (and GPUs) accept what, for every option Kiln maps onto trtexec.
 *
 * Release boundaries are not written here: each feature is a question put to a release's entry in
 * the trtexec contract table (trtexec-releases.json, read from NVIDIA's sources on every release
 * branch; docs/trtexec-contract.md), and the boundary a refusal names ("needs TensorRT >= 10.9",
 * "is not accepted from TensorRT 11.0") is the first release of the table whose answer differs.
 * GPU gates are not a command-line matter and cite NvInfer.h and the support matrix instead.
 *
 * A gate speaks of whoever has the TensorRT version and GPU: the target of a request at submit
 * time ("this target has 8.6.1"), the worker right before trtexec runs ("this worker has 8.6.1").
 */
import { TrtOptionError } from './errors';
import { BUILD_CC_MINIMUM } from './hardware-compatibility';
import {
  accepts as takes,
  dataTypes,
  hardwareCompatibilityLevelOk,
  releaseFor,
  tacticSourceOk,
  tensorFormats,
  TRTEXEC_RELEASES,
  type TrtexecRelease,
} from './trtexec-contract';
import { ccNumber, formatTrtVersion, type TrtVersion } from './version';

/** Who has the TensorRT version and GPU a gate checks. */
export type GateSubject = 'target' | 'worker';

type Question = (release: TrtexecRelease) => boolean;
const option = (name: string): Question => (r) => takes(r, name);

/** Features Kiln maps, by the name a user knows them by, each as a question to a release. */
export const FEATURES = {
  fp16: option('--fp16'),
  bf16: option('--bf16'),
  int8: option('--int8'),
  fp8: option('--fp8'),
  best: option('--best'),
  stronglyTyped: option('--stronglyTyped'),
  noTF32: option('--noTF32'),
  memPoolSize: option('--memPoolSize'),
  builderOptimizationLevel: option('--builderOptimizationLevel'),
  'ampere+': (r) => hardwareCompatibilityLevelOk(r, 'ampere+'),
  sameComputeCapability: (r) => hardwareCompatibilityLevelOk(r, 'sameComputeCapability'),
  versionCompatible: option('--versionCompatible'),
  excludeLeanRuntime: option('--excludeLeanRuntime'),
  layerPrecisions: option('--layerPrecisions'),
  precisionConstraints: option('--precisionConstraints'),
  'a * inside a layer name': (r) => r.grammar.layerPrecisions?.matching.kind === 'exact-then-one-wildcard',
  calibration: option('--calib'),
  inputIOFormats: option('--inputIOFormats'),
  outputIOFormats: option('--outputIOFormats'),
  'type:layout I/O formats': (r) => r.grammar.ioFormats.form === 'type:formats',
  'layout-only I/O formats': (r) => r.grammar.ioFormats.form === 'formats',
  tacticSources: option('--tacticSources'),
  maxAuxStreams: option('--maxAuxStreams'),
  stripWeights: (r) => takes(r, '--stripWeights') || takes(r, '--weightless'),
  refit: option('--refit'),
  refitFromOnnx: (r) => r.loading.refitFromOnnx !== undefined,
  'several profiles': option('--profile'),
  useProfile: option('--useProfile'),
} satisfies Record<string, Question>;

export type GatedFeature = keyof typeof FEATURES;

const STRONGLY_TYPED_ONLY = 'networks are strongly typed from TensorRT 11.0';

/** Why a feature went away, where a refusal should say more than when. */
const GONE_BECAUSE: Partial<Record<GatedFeature, string>> = {
  fp16: STRONGLY_TYPED_ONLY,
  bf16: STRONGLY_TYPED_ONLY,
  int8: STRONGLY_TYPED_ONLY,
  fp8: STRONGLY_TYPED_ONLY,
  best: STRONGLY_TYPED_ONLY,
  layerPrecisions: STRONGLY_TYPED_ONLY,
  precisionConstraints: STRONGLY_TYPED_ONLY,
  calibration: STRONGLY_TYPED_ONLY,
  'type:layout I/O formats': 'from TensorRT 11.0 an I/O format is a memory layout only: the strongly typed network sets the type',
};

/** GPU gates, by compute capability of the build GPU. */
export const CC_GATES = {
  ...BUILD_CC_MINIMUM,
  // sampleOptions.cpp (10.x) turns bf16 on for --best only when getSMVersion() >= 0x0800: "BF16 only supported on Ampere+".
  bf16: '8.0',
  // TensorRT support matrix (10.x, Hardware and Precision): FP8 on CC 8.9 (Ada) and 9.0 (Hopper) and later.
  fp8: '8.9',
} as const;

const FIRST = TRTEXEC_RELEASES[0].version;
const LAST = TRTEXEC_RELEASES[TRTEXEC_RELEASES.length - 1].version;

/**
 * The table's entry for `trt`. A version older than the table is one Kiln does not support; a newer
 * one is a release nobody has read yet: both are refused rather than guessed at.
 */
export function releaseOf(trt: TrtVersion, subject: GateSubject): TrtexecRelease {
  const has = `; this ${subject} has ${formatTrtVersion(trt)}`;
  try {
    return releaseFor(formatTrtVersion(trt));
  } catch (err) {
    if (compareToTable(trt, FIRST) < 0) throw new TrtOptionError(`Kiln needs TensorRT >= ${FIRST}${has}`);
    if (compareToTable(trt, LAST) > 0) {
      throw new TrtOptionError(
        `Kiln's trtexec contract covers TensorRT ${FIRST} to ${LAST}; a newer release must be read from NVIDIA's sources first (npm run trtexec-contract, docs/trtexec-contract.md)${has}`,
      );
    }
    throw new TrtOptionError(`${(err as Error).message}${has}`);
  }
}

/** Throws TrtOptionError unless the release of `trt` answers yes; the message names the boundary. */
export function requireRelease(label: string, question: Question, trt: TrtVersion, subject: GateSubject, goneBecause?: string): void {
  const release = releaseOf(trt, subject);
  if (question(release)) return;
  const has = `; this ${subject} has ${formatTrtVersion(trt)}`;
  const index = TRTEXEC_RELEASES.indexOf(release);
  const lastYes = TRTEXEC_RELEASES.slice(0, index).map(question).lastIndexOf(true);
  if (lastYes >= 0) {
    const why = goneBecause ? ` (${goneBecause})` : '';
    throw new TrtOptionError(`${label} is not accepted from TensorRT ${TRTEXEC_RELEASES[lastYes + 1].version}${why}${has}`);
  }
  const firstYes = TRTEXEC_RELEASES.slice(index + 1).find(question);
  if (firstYes) throw new TrtOptionError(`${label} needs TensorRT >= ${firstYes.version}${has}`);
  throw new TrtOptionError(`${label} is accepted by no TensorRT release from ${FIRST} to ${LAST}${has}`);
}

export function requireFeature(feature: GatedFeature, trt: TrtVersion, subject: GateSubject, label: string = feature): void {
  requireRelease(label, FEATURES[feature], trt, subject, GONE_BECAUSE[feature]);
}

/**
 * Whether `trt`'s release has the feature, for choosing between spellings rather than refusing.
 * Outside the table nothing is known to be accepted.
 */
export function accepts(feature: GatedFeature, trt: TrtVersion): boolean {
  let release: TrtexecRelease;
  try {
    release = releaseOf(trt, 'worker');
  } catch (err) {
    if (err instanceof TrtOptionError) return false;
    throw err;
  }
  return FEATURES[feature](release);
}

export function requireDataType(label: string, type: string, trt: TrtVersion, subject: GateSubject): void {
  requireRelease(`${label} type ${type}`, (r) => dataTypes(r).includes(type), trt, subject, STRONGLY_TYPED_ONLY);
}

export function requireTensorFormat(label: string, format: string, trt: TrtVersion, subject: GateSubject): void {
  requireRelease(`${label} format ${format}`, (r) => tensorFormats(r).includes(format), trt, subject);
}

/** A tactic source by its trtexec name (CUBLAS_LT); 11.0 keeps only the convolution sources. */
export function requireTacticSource(label: string, name: string, trt: TrtVersion, subject: GateSubject): void {
  requireRelease(label, (r) => tacticSourceOk(r, name), trt, subject);
}

/** Throws TrtOptionError unless the build GPU's compute capability is at least `minimum`. */
export function requireCc(label: string, minimum: string, cc: string, subject: GateSubject): void {
  if (ccNumber(cc) < ccNumber(minimum)) {
    throw new TrtOptionError(`${label} needs a GPU of compute capability >= ${minimum}; this ${subject} has ${cc}`);
  }
}

function compareToTable(trt: TrtVersion, release: string): number {
  const [major, minor] = release.split('.').map(Number);
  return trt.major !== major ? trt.major - major : trt.minor - minor;
}
